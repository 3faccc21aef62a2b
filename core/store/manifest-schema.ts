import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { TrendflowError } from '../contracts/errors.js';
import { MANIFEST_VERSION, type Manifest, type StoredManifest } from '../contracts/manifest.js';
import { upgradeManifest } from './manifest-upgrade.js';

// ajv-formats is CommonJS; under NodeNext its plugin function is the `default` member of the module object.
const addFormats = addFormatsModule.default;

export interface ManifestValidation {
  ok: boolean;
  /** One line per problem: `<JSON pointer> <message>`; empty when ok. */
  errors: string[];
}

/** A manifest.json as read: valid for the version it says, and as the current version. */
export interface StoredManifestCheck extends ManifestValidation {
  /** The manifest upgraded to MANIFEST_VERSION (null when not ok). */
  manifest: Manifest | null;
  /** The version the file says, once it is valid for it (e.g. `manifest_v1` for a file the upgrade changed). */
  storedVersion: StoredManifest['manifest_version'] | null;
}

let compiled: ValidateFunction<StoredManifest> | undefined;

/**
 * Validates a parsed manifest.json (either version) against schemas/manifest.json, plus what JSON Schema cannot
 * say (component names are unique). The schema is compiled on first use and reused.
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
 * What every reader of a manifest.json uses: validates it for the version it says, upgrades an older version in
 * memory (core/store/manifest-upgrade.ts) and checks the result against the current version, so code past this
 * point sees only MANIFEST_VERSION.
 */
export function checkStoredManifest(value: unknown): StoredManifestCheck {
  const check = validateManifest(value);
  if (!check.ok) return { ...check, manifest: null, storedVersion: null };
  const stored = value as StoredManifest;
  const manifest = upgradeManifest(stored);
  if (manifest !== stored) {
    const upgraded = validateManifest(manifest);
    if (!upgraded.ok) {
      const errors = upgraded.errors.map((error) => `${error} (after upgrading ${stored.manifest_version} to ${MANIFEST_VERSION})`);
      return { ok: false, errors, manifest: null, storedVersion: stored.manifest_version };
    }
  }
  return { ok: true, errors: [], manifest, storedVersion: stored.manifest_version };
}

/**
 * schemas/manifest.json sits two folders above this module in the sources (core/store/) and three above it in
 * the build (dist/core/store/). Its `x-schema-version` must be the version this code writes.
 */
function compileManifestSchema(): ValidateFunction<StoredManifest> {
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
    return ajv.compile<StoredManifest>(schema);
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

function duplicateComponents(manifest: StoredManifest): string[] {
  const seen = new Set<string>();
  const errors: string[] = [];
  manifest.components.forEach((component, index) => {
    if (seen.has(component.name)) errors.push(`/components/${index}/name duplicate component ${component.name}`);
    seen.add(component.name);
  });
  return errors;
}
