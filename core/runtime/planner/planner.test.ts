import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { CHECKLIST_FORMAT, findChecklistEntry, loadChecklist, parseChecklist, writeChecklist, type Checklist, type ChecklistEntry } from './checklist.js';
import { msPerFrameAt, planBatchSize, probeMemory, type MemorySnapshot } from './planner.js';

const tmp = useTempDirs('planner-');
const MiB = 2 ** 20;

const clipCpu: ChecklistEntry = {
  component: 'core_clip',
  device: 'cpu',
  model_ids: ['clip-image', 'clip-text'],
  input_size: 224,
  model_bytes: 600 * MiB,
  bytes_per_frame: 20 * MiB,
  max_batch_size: 32,
  origin: 'measured',
  measurements: [
    { batch_size: 1, ms_per_frame: 40, peak_bytes: 620 * MiB },
    { batch_size: 8, ms_per_frame: 25, peak_bytes: 760 * MiB },
    { batch_size: 32, ms_per_frame: 22, peak_bytes: 1240 * MiB },
  ],
};

function memory(ramMiB: number, gpuFreeMiB?: number): MemorySnapshot {
  return {
    ram_available_bytes: ramMiB * MiB,
    ram_total_bytes: 2 * ramMiB * MiB,
    gpus: gpuFreeMiB === undefined ? null : [{ index: 0, name: 'test', free_bytes: gpuFreeMiB * MiB, total_bytes: 2 * gpuFreeMiB * MiB }],
  };
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isTrendflowError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a TrendflowError');
}

describe('planBatchSize', () => {
  it('picks the largest power of two that fits the share of free memory, capped by the checklist', () => {
    // 2000 MiB free, half of it = 1000 MiB; (1000 - 600) / 20 = 20 frames fit → 16
    const plan = planBatchSize(clipCpu, memory(2000));
    expect(plan.batch_size).toBe(16);
    expect(plan.memory_source).toBe('ram');
    expect(plan.estimated_bytes).toBe(600 * MiB + 16 * 20 * MiB);
    expect(plan.estimated_bytes).toBeLessThanOrEqual(plan.budget_bytes);
    expect(plan.estimated_ms_per_frame).toBe(25);
    // plenty of memory: the checklist's max_batch_size caps it; the configuration caps it further
    expect(planBatchSize(clipCpu, memory(64_000)).batch_size).toBe(32);
    expect(planBatchSize(clipCpu, memory(64_000), { maxBatchSize: 12 }).batch_size).toBe(8);
  });

  it('more free memory never gives a smaller batch', () => {
    let previous = 0;
    for (let ram = 1300; ram < 10_000; ram += 97) {
      const size = planBatchSize(clipCpu, memory(ram)).batch_size;
      expect(size).toBeGreaterThanOrEqual(previous);
      previous = size;
    }
  });

  it('refuses before loading when not even one frame fits', () => {
    expect(codeOf(() => planBatchSize(clipCpu, memory(1000)))).toBe('insufficient_memory');
    expect(codeOf(() => planBatchSize({ ...clipCpu, device: 'cuda' }, memory(64_000, 1000)))).toBe('insufficient_gpu_memory');
  });

  it('plans cuda entries on the GPU, and cuda without a GPU is an error', () => {
    const plan = planBatchSize({ ...clipCpu, device: 'cuda' }, memory(100, 4000));
    expect(plan.memory_source).toBe('gpu');
    expect(plan.batch_size).toBe(32);
    expect(codeOf(() => planBatchSize({ ...clipCpu, device: 'cuda' }, memory(64_000)))).toBe('execution_provider_unavailable');
  });

  it('interpolates time per frame from the nearest measured batch below', () => {
    expect(msPerFrameAt(clipCpu, 1)).toBe(40);
    expect(msPerFrameAt(clipCpu, 4)).toBe(40);
    expect(msPerFrameAt(clipCpu, 16)).toBe(25);
    expect(msPerFrameAt(clipCpu, 64)).toBe(22);
  });
});

describe('probeMemory', () => {
  it('reports available and total RAM of this machine', async () => {
    const snapshot = await probeMemory();
    expect(snapshot.ram_available_bytes).toBeGreaterThan(0);
    expect(snapshot.ram_available_bytes).toBeLessThanOrEqual(snapshot.ram_total_bytes);
    if (snapshot.gpus) for (const gpu of snapshot.gpus) expect(gpu.free_bytes).toBeLessThanOrEqual(gpu.total_bytes);
  });
});

describe('checklist files', () => {
  const checklist: Checklist = {
    format: CHECKLIST_FORMAT,
    measured_at: '2026-11-30T00:00:00.000Z',
    machine: { cpu: 'test', cores: 2, ram_bytes: 24 * 2 ** 30, gpu: null, onnxruntime: '1.30.0' },
    entries: [clipCpu],
  };

  it('prefers the models dir checklist written by calibrate over the reference one', async () => {
    const dir = await tmp();
    await writeChecklist(path.join(dir, 'checklist.json'), checklist);
    const loaded = await loadChecklist(dir);
    expect(loaded.file).toBe(path.join(dir, 'checklist.json'));
    expect(findChecklistEntry(loaded.checklist, 'core_clip', 'cpu', loaded.file).max_batch_size).toBe(32);
    const reference = await loadChecklist(await tmp());
    expect(reference.file).toMatch(/models[/\\]checklist\.json$/);
  });

  it('a missing measurement names the calibrate command', async () => {
    const error = (() => {
      try {
        findChecklistEntry(checklist, 'core_clip', 'cuda', 'x.json');
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(error?.message).toContain('npx trendflow bench calibrate --components core_clip --device cuda');
  });

  it('refuses a malformed checklist with the reason', async () => {
    expect(codeOf(() => parseChecklist('{', 'a.json'))).toBe('invalid_argument');
    const bad = { ...checklist, entries: [{ ...clipCpu, bytes_per_frame: 0 }] };
    expect(() => parseChecklist(JSON.stringify(bad), 'b.json')).toThrow(/bytes_per_frame/);
    const unknown = { ...checklist, entries: [{ ...clipCpu, component: 'clip' }] };
    expect(() => parseChecklist(JSON.stringify(unknown), 'c.json')).toThrow(/unknown component/);
  });
});
