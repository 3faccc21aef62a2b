/**
 * Component configs are plain JSON objects checked against a JSON schema: unknown keys and bad values are
 * `invalid_argument` naming the component and the key, so a typo in a profile never silently runs a default.
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';

const ajv = new Ajv({ allErrors: true, useDefaults: false, strict: true });

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => (e.keyword === 'additionalProperties' ? `unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}` : `${e.instancePath || '/'} ${e.message}`))
    .join('; ');
}

/** A parser for one component's config: defaults merged under the given values, then validated. */
export function configParser<Config extends object>(component: ComponentName, schema: object, defaults: Config): (value: unknown) => Config {
  const validate = ajv.compile({ type: 'object', additionalProperties: false, ...schema });
  return (value: unknown): Config => {
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new TrendflowError('invalid_argument', `${component} config must be an object`);
    }
    const merged = { ...defaults, ...(value as object | undefined) };
    if (!validate(merged)) throw new TrendflowError('invalid_argument', `${component} config: ${describe(validate.errors)}`);
    return merged as Config;
  };
}
