/**
 * Per-component metrics (seed 003 Q33–Q34): batch size, peak memory, units processed and throughput. They are
 * facts about the run, so they go into the manifest (its source of truth) as one note,
 * `metrics {"batch_size":8,…}` (canonical JSON; the manifest has no field for them), and the run index reads them
 * from there into its metrics table.
 */
import type { ManifestComponent } from '../contracts/manifest.js';
import { canonicalJson } from '../store/identity.js';

export const METRICS_NOTE = 'metrics ';

export interface ComponentMetrics {
  /** Frames (or other units) per inference call, as planned. */
  batch_size?: number;
  /** The process's peak resident memory while the component ran (other components running beside it included). */
  peak_rss_bytes?: number;
  /** Units the component reported as done through its progress events (frames, prompts, windows…). */
  units_done?: number;
  throughput_per_s?: number;
}

export function metricsNote(metrics: ComponentMetrics): string {
  return `${METRICS_NOTE}${canonicalJson(metrics)}`;
}

/** The numeric metrics a manifest entry recorded (empty when none). */
export function metricsOf(entry: Pick<ManifestComponent, 'notes'>): Record<string, number> {
  const note = entry.notes.find((n) => n.startsWith(METRICS_NOTE));
  if (!note) return {};
  try {
    const value = JSON.parse(note.slice(METRICS_NOTE.length)) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter((pair): pair is [string, number] => typeof pair[1] === 'number' && Number.isFinite(pair[1])));
  } catch {
    // a note someone edited by hand: no metrics rather than a broken index
    return {};
  }
}

/** Samples the process's resident memory while a component runs and keeps the peak. */
export class PeakRssSampler {
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
