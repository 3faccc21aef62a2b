import { promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findChecklistEntry, loadChecklist } from '../../runtime/planner/checklist.js';
import { planBatchSize, probeMemory } from '../../runtime/planner/planner.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../../test/helpers/clip-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { main } from '../main.js';

const tmp = useTempDirs('bench-');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = (sink: string[]) => ((chunk: string | Uint8Array) => (sink.push(String(chunk)), true)) as typeof process.stdout.write;
  const saved = { out: process.stdout.write, err: process.stderr.write, code: process.exitCode };
  process.stdout.write = write(out);
  process.stderr.write = write(err);
  process.exitCode = undefined;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = saved.code;
  }
}

describe('trendflow bench calibrate', () => {
  let modelsDir: string;
  beforeAll(async () => {
    ({ modelsDir } = await prepareClipModelsDir(await tmp()));
  });

  it('measures core_clip on this machine into the models dir, and the planner plans from it', async () => {
    const args = ['bench', 'calibrate', '--models-dir', modelsDir, '--image-model', TEST_CLIP_IMAGE_ID, '--text-model', TEST_CLIP_TEXT_ID, '--batch-sizes', '1,2,4'];
    const { code, stdout, stderr } = await cli([...args, '--json']);
    expect(stderr).toContain('calibrating core_clip on cpu');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { entries: { origin: string }[] };
    const { checklist, file } = await loadChecklist(modelsDir);
    expect(file).toBe(path.join(modelsDir, 'checklist.json'));
    expect(checklist).toEqual(printed);
    const entry = findChecklistEntry(checklist, 'core_clip', 'cpu', file);
    expect(entry).toMatchObject({ origin: 'measured', model_ids: [TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID], input_size: 224 });
    expect(entry.measurements.map((m) => m.batch_size)).toEqual([1, 2, 4]);
    for (const m of entry.measurements) {
      expect(m.ms_per_frame).toBeGreaterThan(0);
      expect(m.peak_bytes).toBeGreaterThan(0);
    }
    // the peak only grows with the batch; a frame costs at least its pixels and its tensor
    expect(entry.measurements[2]!.peak_bytes).toBeGreaterThanOrEqual(entry.measurements[0]!.peak_bytes);
    expect(entry.bytes_per_frame).toBeGreaterThanOrEqual(640 * 360 * 3 + 3 * 224 * 224 * 4);
    expect([1, 2, 4]).toContain(entry.max_batch_size);
    const plan = planBatchSize(entry, await probeMemory());
    expect(plan.batch_size).toBeGreaterThanOrEqual(1);
    expect(plan.batch_size).toBeLessThanOrEqual(entry.max_batch_size);

    // a second run replaces the measurement and keeps the file valid; the human summary names the file
    const again = await cli(args);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`wrote ${path.join(modelsDir, 'checklist.json')}`);
    const reloaded = await loadChecklist(modelsDir);
    expect(reloaded.checklist.entries.filter((e) => e.component === 'core_clip' && e.device === 'cpu')).toHaveLength(1);
  });

  it('without the models it fails with model_not_found and writes nothing', async () => {
    const empty = await tmp();
    const { code, stderr } = await cli(['bench', 'calibrate', '--models-dir', empty]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/model_not_found/);
    await expect(fs.readdir(empty)).resolves.not.toContain('checklist.json');
  });

  it('refuses components it cannot calibrate and bad batch sizes', async () => {
    expect((await cli(['bench', 'calibrate', '--components', 'cut_detection', '--models-dir', modelsDir])).code).toBe(1);
    expect((await cli(['bench', 'calibrate', '--batch-sizes', '4', '--models-dir', modelsDir])).code).toBe(2);
  });
});
