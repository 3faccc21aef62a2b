/**
 * runs.overview shows whether a run folder validates. Validating hashes every artifact (a large run's CLIP
 * embeddings alone are megabytes), which made opening an overview cost twice the runs list (docs/BENCHMARKS.md).
 * The result is kept per run folder with a fingerprint of every file in it (path, size, mtime, inode): the first
 * opening in a server's life validates fully, and any write, rename, truncation or new file in the folder validates
 * again. What it cannot see is a change that keeps a file's size and mtime (bit rot, a forged mtime):
 * `trendflow validate` always checks everything.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { validateRunDir, type RunValidation } from '../schema/index.js';

/** Enough for the runs an analyst opens in a session; the oldest opened is dropped first. */
const MAX_ENTRIES = 64;

async function fingerprint(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, relative), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const name = path.join(relative, entry.name);
      if (entry.isDirectory()) await walk(name);
      else {
        const stat = await fs.stat(path.join(dir, name), { bigint: true }).catch(() => null);
        hash.update(`${name}\0${stat ? `${stat.size} ${stat.mtimeNs} ${stat.ino}` : 'gone'}\n`);
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}

export class RunValidationCache {
  readonly #entries = new Map<string, { fingerprint: string; validation: RunValidation }>();

  async validate(runDir: string): Promise<RunValidation> {
    const current = await fingerprint(runDir);
    const cached = this.#entries.get(runDir);
    this.#entries.delete(runDir);
    if (cached?.fingerprint === current) {
      this.#entries.set(runDir, cached);
      return cached.validation;
    }
    const validation = await validateRunDir(runDir);
    // kept only when nothing changed while it validated (a run still being written is validated at each opening)
    if ((await fingerprint(runDir)) === current) this.#entries.set(runDir, { fingerprint: current, validation });
    while (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    return validation;
  }
}
