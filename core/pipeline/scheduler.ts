/**
 * How many things run at once (DESIGN.md §9, seed 003 Q40). One scheduler is shared by every analysis in a
 * process, so a batch of videos competes for the same slots:
 *
 * - `models_cpu`: 1. onnxruntime already spreads one inference over every core (intra-op threads), so a second
 *   CPU model beside it only fights for the same cores and memory bandwidth.
 * - `models_cuda`: 1 per process for now (one GPU; multi-GPU placement is later work).
 * - `segmenter`: half the cores: ffmpeg decodes with several threads and the JavaScript side adds one.
 * - `other`: every core but one (components without models: audio features, modules reading artifacts).
 */
import os from 'node:os';

export type Pool = 'models_cpu' | 'models_cuda' | 'segmenter' | 'other';

export type SchedulerLimits = Record<Pool, number>;

export function defaultLimits(cores: number = os.availableParallelism()): SchedulerLimits {
  return {
    models_cpu: 1,
    models_cuda: 1,
    segmenter: Math.max(1, Math.floor(cores / 2)),
    other: Math.max(1, cores - 1),
  };
}

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if aborted first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active--;
          this.waiting.shift()?.();
        });
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(grant);
        if (index !== -1) this.waiting.splice(index, 1);
        reject(signal!.reason);
      };
      if (this.active < this.limit) return grant();
      this.waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export class Scheduler {
  private readonly pools: Record<Pool, Semaphore>;

  constructor(readonly limits: SchedulerLimits = defaultLimits()) {
    this.pools = {
      models_cpu: new Semaphore(limits.models_cpu),
      models_cuda: new Semaphore(limits.models_cuda),
      segmenter: new Semaphore(limits.segmenter),
      other: new Semaphore(limits.other),
    };
  }

  /** Runs `work` once a slot of `pool` is free (waiting can be aborted). */
  async run<T>(pool: Pool, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.pools[pool].acquire(signal);
    try {
      return await work();
    } finally {
      release();
    }
  }
}
