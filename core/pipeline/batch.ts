/**
 * Batch decisions made before work starts (DESIGN.md §8, seed 003 Q39–Q40), from free memory and the checklist
 * (core/runtime/planner): the batch size of each model component, and how many videos of a batch run at once.
 */
import type { ComponentName } from '../contracts/components.js';
import type { ChecklistEntry } from '../runtime/planner/checklist.js';
import { planBatchSize, type MemorySnapshot } from '../runtime/planner/planner.js';

/** The segmenter's ring of recent analysis frames is bounded by this (core/segmenter, maxRingBytes default). */
const SEGMENTER_RING_BYTES = 256 * 1024 * 1024;

export interface PlannedBatch {
  batch_size: number;
  /** One line for the manifest notes: where the size came from. */
  note: string;
}

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;

/** A batch size the component's config fixes (`batching().fixed`). */
export function fixedBatch(component: ComponentName, size: number): PlannedBatch {
  return { batch_size: size, note: `batch_size ${size}: fixed by the ${component} config` };
}

/** The planner's choice for a model component from its checklist entry and the memory free now. */
export function plannedBatch(entry: ChecklistEntry, memory: MemorySnapshot, memoryShare: number): PlannedBatch {
  const plan = planBatchSize(entry, memory, { memoryShare });
  return {
    batch_size: plan.batch_size,
    note:
      `batch_size ${plan.batch_size}: planned for ${entry.device} from the checklist (${entry.origin}), ` +
      `${mib(plan.estimated_bytes)} estimated of ${mib(plan.budget_bytes)} allowed (${Math.round(memoryShare * 100)}% of ${mib(plan.free_bytes)} free ${plan.memory_source === 'gpu' ? 'GPU memory' : 'RAM'})`,
  };
}

export interface VideoConcurrencyInput {
  videos: number;
  cores: number;
  memory: MemorySnapshot;
  /** Checklist entries of the model components the runs will use on cpu (their models load once per process). */
  entries: readonly ChecklistEntry[];
  /** Share of free RAM the batch may plan on (default 0.5). */
  memoryShare?: number;
}

export interface VideoConcurrency {
  videos: number;
  reason: string;
}

/**
 * How many videos of a batch to analyse at once. Model sessions are shared by the whole process, so models count
 * once; each video in flight adds the segmenter's frame ring plus one planned batch of each model component at its
 * largest useful size. CPU bounds it too: a video in flight keeps about two cores busy (ffmpeg decoding and the
 * JavaScript side) while model inference is serialized (scheduler.ts), so more videos than half the cores only
 * queue. Never fewer than one.
 */
export function planVideoConcurrency(input: VideoConcurrencyInput): VideoConcurrency {
  const share = input.memoryShare ?? 0.5;
  const byCpu = Math.max(1, Math.floor(input.cores / 2));
  const models = input.entries.reduce((sum, e) => sum + e.model_bytes, 0);
  const perVideo = SEGMENTER_RING_BYTES + input.entries.reduce((sum, e) => sum + e.max_batch_size * e.bytes_per_frame, 0);
  const budget = input.memory.ram_available_bytes * share - models;
  const byMemory = Math.max(1, Math.floor(budget / perVideo));
  const videos = Math.max(1, Math.min(input.videos, byCpu, byMemory));
  const limit = videos === input.videos ? 'all of them' : byCpu <= byMemory ? `${input.cores} cores allow ${byCpu}` : `memory allows ${byMemory}`;
  return {
    videos,
    reason: `${videos} of ${input.videos} video(s) at once (${limit}; ${mib(perVideo)} per video in flight, ${mib(models)} of models, ${mib(input.memory.ram_available_bytes)} free RAM)`,
  };
}
