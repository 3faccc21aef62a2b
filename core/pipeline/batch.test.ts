import { describe, expect, it } from 'vitest';
import type { ChecklistEntry } from '../runtime/planner/checklist.js';
import type { MemorySnapshot } from '../runtime/planner/planner.js';
import { fixedBatch, plannedBatch, planVideoConcurrency } from './batch.js';
import { defaultLimits, Scheduler } from './scheduler.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const clip: ChecklistEntry = {
  component: 'core_clip',
  device: 'cpu',
  model_ids: ['clip-vit-b32-image', 'clip-vit-b32-text'],
  input_size: 224,
  model_bytes: 800 * MiB,
  bytes_per_frame: 8 * MiB,
  max_batch_size: 16,
  measurements: [{ batch_size: 1, ms_per_frame: 100, peak_bytes: 808 * MiB }],
  origin: 'estimated',
};
const memory = (freeGiB: number): MemorySnapshot => ({ ram_available_bytes: freeGiB * GiB, ram_total_bytes: 64 * GiB, gpus: null });

describe('batch sizes', () => {
  it('a fixed size passes through; otherwise the planner chooses from free memory and says how', () => {
    expect(fixedBatch('core_clip', 12)).toEqual({ batch_size: 12, note: 'batch_size 12: fixed by the core_clip config' });
    expect(plannedBatch(clip, memory(16), 0.5)).toEqual({
      batch_size: 16,
      note: 'batch_size 16: planned for cpu from the checklist (estimated), 928 MiB estimated of 8192 MiB allowed (50% of 16384 MiB free RAM)',
    });
    // 1 GiB free, half of it: (512 − 800) MiB leaves no frame → the planner refuses rather than OOM mid-run
    expect(() => plannedBatch(clip, memory(1), 0.5)).toThrow(/core_clip needs about 808 MiB/);
    // a quarter of 4 GiB = 1024 MiB: (1024 − 800) / 8 = 28 → capped at the checklist's 16; 0.45 × 2 GiB: 15 frames → 8
    expect(plannedBatch(clip, memory(4), 0.25).batch_size).toBe(16);
    expect(plannedBatch(clip, memory(2), 0.45).batch_size).toBe(8);
  });
});

describe('planVideoConcurrency', () => {
  it('runs every video at once when cores and memory allow', () => {
    expect(planVideoConcurrency({ videos: 3, cores: 16, memory: memory(64), entries: [clip] })).toMatchObject({ videos: 3 });
  });

  it('is bounded by half the cores', () => {
    const plan = planVideoConcurrency({ videos: 8, cores: 2, memory: memory(64), entries: [clip] });
    expect(plan).toEqual({ videos: 1, reason: '1 of 8 video(s) at once (2 cores allow 1; 384 MiB per video in flight, 800 MiB of models, 65536 MiB free RAM)' });
  });

  it('is bounded by memory: models once, a frame ring and a full batch per video', () => {
    // 0.5 × 4 GiB − 800 MiB = 1248 MiB; 384 MiB per video → 3
    expect(planVideoConcurrency({ videos: 8, cores: 32, memory: memory(4), entries: [clip] })).toMatchObject({ videos: 3 });
    expect(planVideoConcurrency({ videos: 8, cores: 32, memory: memory(1), entries: [clip] })).toMatchObject({ videos: 1 });
  });
});

describe('Scheduler', () => {
  it('defaults: one CPU model at a time, half the cores for decoding, all but one for the rest', () => {
    expect(defaultLimits(2)).toEqual({ models_cpu: 1, models_cuda: 1, segmenter: 1, other: 1 });
    expect(defaultLimits(16)).toEqual({ models_cpu: 1, models_cuda: 1, segmenter: 8, other: 15 });
  });

  it('never runs more than a pool’s limit at once, and a waiting task can be aborted', async () => {
    const scheduler = new Scheduler({ models_cpu: 1, models_cuda: 1, segmenter: 1, other: 2 });
    let running = 0;
    let peak = 0;
    const task = () =>
      scheduler.run('other', async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
      });
    await Promise.all(Array.from({ length: 6 }, task));
    expect(peak).toBe(2);

    let release!: () => void;
    const busy = scheduler.run('models_cpu', () => new Promise<void>((r) => (release = r)));
    const controller = new AbortController();
    const waiting = scheduler.run('models_cpu', async () => 'ran', controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    release();
    await busy;
    await expect(scheduler.run('models_cpu', async () => 'free again')).resolves.toBe('free again');
  });
});
