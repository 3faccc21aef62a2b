import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * Scratch folders under os.tmpdir(), removed when the calling test file finishes. Call at module level:
 * `const tmp = useTempDirs('store-')`, then `await tmp()` in a test.
 */
export function useTempDirs(prefix: string): () => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((dir) => fs.rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), `trendflow-${prefix}`));
    made.push(dir);
    return dir;
  };
}
