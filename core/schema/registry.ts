import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { parseSchema, type ArtifactSchema } from './format.js';

/** schemas/manifest.json is the JSON Schema of manifest.json (core/store's), not an artifact schema. */
export const MANIFEST_SCHEMA_FILE = 'manifest.json';

let defaultDir: string | undefined;

/**
 * The repository's schemas/ folder. This module runs from core/schema/ (sources, vitest) and from
 * dist/core/schema/ (built CLI), so the folder is two or three levels up; the right one is the folder beside
 * this project's package.json.
 */
export function defaultSchemasDir(): string {
  if (defaultDir) return defaultDir;
  for (const up of ['../../', '../../../']) {
    const root = fileURLToPath(new URL(up, import.meta.url));
    try {
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'trendflow-workstation' && existsSync(path.join(root, 'schemas'))) {
        defaultDir = path.join(root, 'schemas');
        return defaultDir;
      }
    } catch {
      // no package.json at this depth; try the next
    }
  }
  throw new TrendflowError('schema_not_found', 'the schemas/ folder of trendflow-workstation was not found');
}

// Parsed schemas by absolute file path: schema files are read and checked once per process.
const cache = new Map<string, ArtifactSchema>();

/**
 * The schema of one component, from `<dir>/<component>.json`. Throws `schema_not_found` for an unknown
 * component or a missing file and `schema_invalid` for a file that is not a valid schema (or names another
 * component than its file name).
 */
export function loadSchema(component: string, dir: string = defaultSchemasDir()): ArtifactSchema {
  if (!isComponentName(component)) {
    throw new TrendflowError('schema_not_found', `${JSON.stringify(component)} is not a component name`);
  }
  const file = path.resolve(dir, `${component}.json`);
  const cached = cache.get(file);
  if (cached) return cached;
  if (!existsSync(file)) {
    throw new TrendflowError('schema_not_found', `no schema for component ${component}`, { path: file });
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TrendflowError('schema_invalid', `not readable JSON: ${(error as Error).message}`, { path: file, cause: error });
  }
  const schema = parseSchema(json, file);
  if (schema.component !== component) {
    throw new TrendflowError('schema_invalid', `the file is named for ${component} but describes ${schema.component}`, {
      path: file,
    });
  }
  cache.set(file, schema);
  return schema;
}

/**
 * The components that have a schema in `dir`. Every JSON file there other than manifest.json must be named
 * after a component; anything else is a stray file and `schema_invalid`.
 */
export function listSchemaComponents(dir: string = defaultSchemasDir()): string[] {
  const components: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json') || name === MANIFEST_SCHEMA_FILE) continue;
    const component = name.slice(0, -'.json'.length);
    if (!isComponentName(component)) {
      throw new TrendflowError('schema_invalid', `${name} is not named after a component`, { path: path.join(dir, name) });
    }
    components.push(component);
  }
  return components;
}

/** Loads and checks every artifact schema in `dir`. */
export function loadAllSchemas(dir: string = defaultSchemasDir()): ArtifactSchema[] {
  return listSchemaComponents(dir).map((component) => loadSchema(component, dir));
}
