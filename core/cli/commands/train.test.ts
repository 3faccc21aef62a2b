/** `trendflow train baseline` through the CLI entry point; the training itself is tested in core/predict/baseline. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticDataset, writeSyntheticBundle } from '../../../test/helpers/synthetic-dataset.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { runCliInProcess } from '../../../test/helpers/cli.js';

const tmp = useTempDirs('train-cli-');

describe('trendflow train baseline', () => {
  it('trains with the default settings on a bundle and prints a summary, or one JSON object', async () => {
    const bundle = await tmp();
    await writeSyntheticBundle(bundle, syntheticDataset({ rows: 1_500, channels: 150, seed: 21 }));
    const out = path.join(await tmp(), 'model');
    const text = await runCliInProcess('train', 'baseline', '--bundle', bundle, '--out', out, '--seed', '4');
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^baseline baseline-[0-9a-f]{12} written to /);
    expect(text.stdout).toMatch(/y_likes_21d: MAE \d\.\d{3} \(train mean \d\.\d{3}\), Spearman 0\.\d{3}, p10–p90 coverage 0\.\d{3} on \d+ test rows/);
    expect((await fs.readdir(out)).sort()).toEqual(['model.json', 'report.json', 'report.md', 'trees.json']);

    const again = path.join(await tmp(), 'model');
    const json = await runCliInProcess('train', 'baseline', '--bundle', bundle, '--out', again, '--seed', '4', '--json');
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.out).toBe(again);
    expect(result.model).toMatchObject({ type: 'baseline', engine: { kind: 'gbt_json', file: 'trees.json' } });
    expect(result.report.seed).toBe(4);
    expect(result.report.params).toMatchObject({ trees: 100, maxDepth: 5, bins: 64 });
    // the same seed, the same model
    expect(await fs.readFile(path.join(again, 'trees.json'), 'utf8')).toBe(await fs.readFile(path.join(out, 'trees.json'), 'utf8'));
  }, 60_000);

  it('a non-empty --out, a missing bundle, a bad seed and missing options are clear errors', async () => {
    const out = await tmp();
    await fs.writeFile(path.join(out, 'keep.txt'), 'mine');
    const bundle = await tmp();
    expect((await runCliInProcess('train', 'baseline', '--bundle', bundle, '--out', out)).stderr).toBe(`trendflow: ${out}: invalid_argument: the output folder is not empty\n`);
    expect(await fs.readdir(out)).toEqual(['keep.txt']);
    const fresh = path.join(await tmp(), 'm');
    const missing = await runCliInProcess('train', 'baseline', '--bundle', bundle, '--out', fresh);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`trendflow: ${path.join(bundle, 'dataset.npz')}: npz_not_found: no such file\n`);
    expect((await runCliInProcess('train', 'baseline', '--bundle', bundle, '--out', fresh, '--seed', '-1')).stderr).toContain('invalid_argument: --seed must be an integer');
    expect((await runCliInProcess('train', 'baseline', '--bundle', bundle)).code).toBe(2);
  });
});
