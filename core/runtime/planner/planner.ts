/**
 * The batch planner (seed 003 Q13, Q39–Q40): batch sizes are chosen BEFORE a component starts, outside it, from
 * the memory that is free now and the checklist (memory and time per frame of each component, measured by
 * `trendflow bench calibrate`). Components never probe for the largest batch that fits (no OOM "tries"); the chosen
 * batch_size is recorded in their meta.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { TrendflowError } from '../../contracts/errors.js';
import type { ChecklistEntry } from './checklist.js';

export interface GpuMemory {
  index: number;
  name: string;
  free_bytes: number;
  total_bytes: number;
}

export interface MemorySnapshot {
  /** RAM that can be allocated without swapping (Linux MemAvailable; elsewhere the OS's free memory). */
  ram_available_bytes: number;
  ram_total_bytes: number;
  /** null when nvidia-smi is absent or does not answer. */
  gpus: GpuMemory[] | null;
}

async function linuxMemAvailable(): Promise<number | null> {
  try {
    const text = await fs.readFile('/proc/meminfo', 'utf8');
    const match = /^MemAvailable:\s+(\d+)\s+kB$/m.exec(text);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Free memory of each NVIDIA GPU from nvidia-smi (1 s timeout); null when there is none to ask. */
export function queryNvidiaSmi(timeoutMs = 1000): Promise<GpuMemory[] | null> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=index,name,memory.free,memory.total', '--format=csv,noheader,nounits'],
      { timeout: timeoutMs },
      (error, stdout) => {
        if (error) return resolve(null);
        const gpus = stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split(',').map((part) => part.trim()))
          .map(([index, name, free, total]) => ({
            index: Number(index),
            name: name ?? '',
            free_bytes: Number(free) * 1024 * 1024,
            total_bytes: Number(total) * 1024 * 1024,
          }))
          .filter((gpu) => Number.isInteger(gpu.index) && Number.isFinite(gpu.free_bytes));
        resolve(gpus.length > 0 ? gpus : null);
      },
    );
  });
}

export async function probeMemory(): Promise<MemorySnapshot> {
  const [available, gpus] = await Promise.all([linuxMemAvailable(), queryNvidiaSmi()]);
  return { ram_available_bytes: available ?? os.freemem(), ram_total_bytes: os.totalmem(), gpus };
}

export interface PlanOptions {
  /** Share of the free memory a component may plan to use (default 0.5: other components and videos run too). */
  memoryShare?: number;
  /** A hard upper bound from the configuration. */
  maxBatchSize?: number;
  /** CUDA ordinal when the entry is for cuda (default 0). */
  gpuIndex?: number;
}

export interface BatchPlan {
  batch_size: number;
  /** The memory the plan counted on, and where it came from. */
  memory_source: 'ram' | 'gpu';
  free_bytes: number;
  budget_bytes: number;
  /** Estimated peak of model + one batch. */
  estimated_bytes: number;
  /** Estimated milliseconds per frame at this batch size. */
  estimated_ms_per_frame: number;
}

/** The largest power of two ≤ n (n ≥ 1): batch sizes stay on the grid the checklist was measured on. */
function floorPowerOfTwo(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/**
 * The batch size for one component: the largest power of two whose estimated peak (model + batch × bytes per
 * frame) fits in `memoryShare` of the free memory of the device it runs on, capped by the checklist's
 * `max_batch_size` (past which throughput stops improving) and the configuration. `insufficient_memory` /
 * `insufficient_gpu_memory` when not even one frame fits: failing before loading beats an OOM mid-run.
 */
export function planBatchSize(entry: ChecklistEntry, memory: MemorySnapshot, options: PlanOptions = {}): BatchPlan {
  const share = options.memoryShare ?? 0.5;
  if (!(share > 0 && share <= 1)) throw new TrendflowError('invalid_argument', `memoryShare must be in (0, 1], got ${share}`);
  let free: number;
  let source: BatchPlan['memory_source'];
  if (entry.device === 'cuda') {
    const gpu = memory.gpus?.find((g) => g.index === (options.gpuIndex ?? 0));
    if (!gpu) throw new TrendflowError('execution_provider_unavailable', `${entry.component} is planned for cuda but nvidia-smi reports no GPU ${options.gpuIndex ?? 0}`);
    free = gpu.free_bytes;
    source = 'gpu';
  } else {
    free = memory.ram_available_bytes;
    source = 'ram';
  }
  const budget = free * share;
  const fits = Math.floor((budget - entry.model_bytes) / entry.bytes_per_frame);
  if (fits < 1) {
    const code = source === 'gpu' ? 'insufficient_gpu_memory' : 'insufficient_memory';
    const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;
    throw new TrendflowError(
      code,
      `${entry.component} needs about ${mib(entry.model_bytes + entry.bytes_per_frame)} (model ${mib(entry.model_bytes)} + one frame) ` +
        `but ${mib(budget)} of ${mib(free)} free ${source === 'gpu' ? 'GPU memory' : 'RAM'} is available to it`,
    );
  }
  const cap = Math.min(fits, entry.max_batch_size, options.maxBatchSize ?? Infinity);
  const batch = floorPowerOfTwo(Math.max(1, cap));
  return {
    batch_size: batch,
    memory_source: source,
    free_bytes: free,
    budget_bytes: budget,
    estimated_bytes: entry.model_bytes + batch * entry.bytes_per_frame,
    estimated_ms_per_frame: msPerFrameAt(entry, batch),
  };
}

/** Time per frame at a batch size, interpolated from the measured points (nearest measured batch below). */
export function msPerFrameAt(entry: ChecklistEntry, batch: number): number {
  let best = entry.measurements[0]!;
  for (const point of entry.measurements) if (point.batch_size <= batch) best = point;
  return best.ms_per_frame;
}
