import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { TrendflowError } from '../contracts/errors.js';
import { MANIFEST_VERSION, type Manifest } from '../contracts/manifest.js';

// ajv-formats is CommonJS; under NodeNext its plugin function is the `default` member of the module object.
const addFormats = addFormatsModule.default;

export interface ManifestValidation {
  ok: boolean;
  /** One line per problem: `<JSON pointer> <message>`; empty when ok. */
  errors: string[];
}

let compiled: ValidateFunction<Manifest> | undefined;

/**
 * Validates a parsed manifest.json against schemas/manifest.json, plus what JSON Schema cannot say (component
 * names are unique). The schema is compiled on first use and reused.
 */
export function validateManifest(value: unknown): ManifestValidation {
  compiled ??= compileManifestSchema();
  if (!compiled(value)) {
    // An `if` failure only repeats the specific error reported for its `then`/`else` branch.
    const errors = (compiled.errors ?? []).filter((error) => error.keyword !== 'if').map(formatError);
    return { ok: false, errors: errors.length > 0 ? errors : ['/ does not match schemas/manifest.json'] };
  }
  const errors = duplicateComponents(value);
  return { ok: errors.length === 0, errors };
}

/**
 * schemas/manifest.json sits two folders above this module in the sources (core/store/) and three above it in
 * the build (dist/core/store/). Its `x-schema-version` must be the version this code writes.
 */
function compileManifestSchema(): ValidateFunction<Manifest> {
  for (const relative of ['../../schemas/manifest.json', '../../../schemas/manifest.json']) {
    const url = new URL(relative, import.meta.url);
    let text: string;
    try {
      text = readFileSync(url, 'utf8');
    } catch {
      continue; // not at this depth
    }
    let schema: Record<string, unknown>;
    try {
      schema = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new TrendflowError('schema_invalid', `manifest schema is not valid JSON: ${(error as Error).message}`, {
        path: fileURLToPath(url),
        cause: error,
      });
    }
    if (schema['x-schema-version'] !== MANIFEST_VERSION) {
      throw new TrendflowError(
        'schema_invalid',
        `manifest schema is ${String(schema['x-schema-version'])}, this build writes ${MANIFEST_VERSION}`,
        { path: fileURLToPath(url) },
      );
    }
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    ajv.addVocabulary(['x-schema-version']);
    return ajv.compile<Manifest>(schema);
  }
  throw new TrendflowError('schema_not_found', 'schemas/manifest.json not found next to core/');
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath || '/';
  let extra = '';
  if (error.keyword === 'additionalProperties') extra = ` (${String(error.params.additionalProperty)})`;
  if (error.keyword === 'enum') {
    const allowed = error.params.allowedValues as unknown[];
    // Long vocabularies (error codes, component names) would drown the message; short ones help the reader.
    if (allowed.length <= 10) extra = `: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where} ${error.message ?? error.keyword}${extra}`;
}

function duplicateComponents(manifest: Manifest): string[] {
  const seen = new Set<string>();
  const errors: string[] = [];
  manifest.components.forEach((component, index) => {
    if (seen.has(component.name)) errors.push(`/components/${index}/name duplicate component ${component.name}`);
    seen.add(component.name);
  });
  return errors;
}
