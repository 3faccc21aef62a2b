/**
 * API events for every connected window (IPC) or event stream (SSE). `runs.changed` comes from a watcher that
 * polls the store's run folders and manifest times while anyone listens: polling rather than fs.watch, because
 * recursive watches are not portable (and not reliable on network folders) and a poll of three folder levels
 * every couple of seconds costs little. Analysis progress joins when the orchestrator lands (issue 8).
 */
import { promises as fs } from 'node:fs';
import { listRuns, manifestPath } from '../store/index.js';
import type { ApiEvent } from './contract.js';

export type ApiEventListener = (event: ApiEvent) => void;

export class ApiEventHub {
  readonly #listeners = new Set<ApiEventListener>();
  #timer: NodeJS.Timeout | null = null;
  #lastState: string | null = null;
  #polling = false;

  constructor(
    private readonly store: string,
    private readonly pollMs = 2000,
  ) {}

  get listenerCount(): number {
    return this.#listeners.size;
  }

  subscribe(listener: ApiEventListener): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  emit(event: ApiEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // one broken window must not stop the others from hearing the event
        process.stderr.write(`trendflow: api event listener failed: ${(error as Error).message}\n`);
      }
    }
  }

  close(): void {
    this.#listeners.clear();
    this.#stop();
  }

  #start(): void {
    void this.#poll();
    this.#timer = setInterval(() => void this.#poll(), this.pollMs);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#lastState = null;
  }

  /** The runs and their manifests' modification times, as one comparable string. */
  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const runs = await listRuns(this.store);
      const stamps = await Promise.all(runs.map(async (run) => `${run.run_dir}@${(await fs.stat(manifestPath(run.run_dir)).catch(() => null))?.mtimeMs ?? 0}`));
      const state = stamps.join('\n');
      if (this.#lastState !== null && state !== this.#lastState) this.emit({ type: 'runs.changed', count: runs.length });
      if (this.#timer !== null) this.#lastState = state;
    } catch (error) {
      process.stderr.write(`trendflow: cannot watch the store: ${(error as Error).message}\n`);
    } finally {
      this.#polling = false;
    }
  }
}
