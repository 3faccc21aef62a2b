/** `trendflow export` argument handling; the bundle itself is tested in core/export/bundle.test.ts. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { runCliInProcess } from '../../../test/helpers/cli.js';

const tmp = useTempDirs('export-cli-');

describe('trendflow export (arguments)', () => {
  it('needs runs or --all, not both, and --out', async () => {
    const store = await tmp();
    expect((await runCliInProcess('export', '--store', store, '--out', path.join(store, 'b'))).stderr).toContain('invalid_argument: give run_ids');
    expect((await runCliInProcess('export', 'x', '--all', '--store', store, '--out', path.join(store, 'b'))).code).toBe(1);
    expect((await runCliInProcess('export', '--all', '--store', store)).code).toBe(2);
  });

  it('refuses a non-empty --out and names it', async () => {
    const store = await tmp();
    const out = await tmp();
    await fs.writeFile(path.join(out, 'keep.txt'), 'mine');
    const result = await runCliInProcess('export', '--all', '--store', store, '--out', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`trendflow: ${out}: invalid_argument: the output folder is not empty\n`);
    expect(await fs.readdir(out)).toEqual(['keep.txt']);
  });

  it('an unknown run is run_not_found; an empty store gives an empty bundle', async () => {
    const store = await tmp();
    expect((await runCliInProcess('export', 'no-such-run', '--store', store, '--out', path.join(store, 'b'))).stderr).toContain('run_not_found');
    const out = path.join(store, 'empty-bundle');
    const result = await runCliInProcess('export', '--all', '--store', store, '--out', out, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 0, exported: [], skipped: [] });
    expect((await fs.readdir(out)).sort()).toEqual(['README.md', 'SHA256SUMS', 'dataset.npz', 'dataset.parquet', 'export_report.json']);
  });
});
