import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real small models kept in ../shared/models (see its SOURCES.md), read in place: they are never copied into
 * the repository. CI lays shared/ beside the clone, as on a developer's machine.
 */
export const SHARED_MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/models');

export function sharedModel(modelId: string, file: string): string {
  const found = path.join(SHARED_MODELS_DIR, modelId, file);
  if (!existsSync(found)) throw new Error(`real model ${modelId}/${file} not found under ${SHARED_MODELS_DIR} (../shared/models)`);
  return found;
}
