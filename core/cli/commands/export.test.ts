/** `trendflow export` argument handling; the bundle itself is tested in core/export/bundle.test.ts. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { main } from '../main.js';

const tmp = useTempDirs('export-cli-');

async function run(...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, stderr, stdout };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('trendflow export (arguments)', () => {
  it('needs runs or --all, not both, and --out', async () => {
    const store = await tmp();
    expect((await run('export', '--store', store, '--out', path.join(store, 'b'))).stderr).toContain('invalid_argument: give run_ids');
    expect((await run('export', 'x', '--all', '--store', store, '--out', path.join(store, 'b'))).code).toBe(1);
    expect((await run('export', '--all', '--store', store)).code).toBe(2);
  });

  it('refuses a non-empty --out and names it', async () => {
    const store = await tmp();
    const out = await tmp();
    await fs.writeFile(path.join(out, 'keep.txt'), 'mine');
    const result = await run('export', '--all', '--store', store, '--out', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`trendflow: ${out}: invalid_argument: the output folder is not empty\n`);
    expect(await fs.readdir(out)).toEqual(['keep.txt']);
  });

  it('an unknown run is run_not_found; an empty store gives an empty bundle', async () => {
    const store = await tmp();
    expect((await run('export', 'no-such-run', '--store', store, '--out', path.join(store, 'b'))).stderr).toContain('run_not_found');
    const out = path.join(store, 'empty-bundle');
    const result = await run('export', '--all', '--store', store, '--out', out, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 0, exported: [], skipped: [] });
    expect((await fs.readdir(out)).sort()).toEqual(['README.md', 'SHA256SUMS', 'dataset.npz', 'export_report.json']);
  });
});
