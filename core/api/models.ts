/** The models status of the settings view: the registry and what the models dir holds (core/runtime/registry). */
import { promises as fs } from 'node:fs';
import { loadRegistry, modelFilePath, verifyModels } from '../runtime/registry/index.js';
import type { ModelStatus, ModelsStatus } from './contract.js';

async function exists(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => null))?.isFile() ?? false;
}

/** Every registry model with its install state; `verify` also checks each file's sha256 (stamped, so cheap after once). */
export async function modelsStatus(modelsDir: string, verify: boolean): Promise<ModelsStatus> {
  const registry = await loadRegistry({ modelsDir });
  const verifications = verify ? new Map((await verifyModels(registry, modelsDir)).map((v) => [v.id, v])) : null;
  const models: ModelStatus[] = [];
  for (const entry of registry.list()) {
    const present = (await Promise.all(entry.files.map((file) => exists(modelFilePath(modelsDir, entry.id, file.name))))).filter(Boolean).length;
    const bytes = entry.files.every((file) => file.bytes !== null) ? entry.files.reduce((sum, file) => sum + file.bytes!, 0) : null;
    const verification = verifications?.get(entry.id);
    models.push({
      id: entry.id,
      model_name: entry.model_name,
      model_version: entry.model_version,
      task: entry.task,
      engine: entry.engine,
      license: entry.license,
      bytes,
      state: present === entry.files.length ? 'installed' : present > 0 ? 'partial' : 'missing',
      verified: verification ? (verification.files.find((file) => file.status !== 'ok')?.status ?? 'ok') : null,
    });
  }
  return { models_dir: modelsDir, models };
}
