/**
 * Progress events of an analysis (DESIGN.md §9): what the CLI's progress display and the workstation's progress
 * bar draw. Every event names its run; component progress carries done/total and an ETA from the rate so far.
 */
import type { ComponentName } from '../contracts/components.js';
import type { ManifestError } from '../contracts/manifest.js';
import type { RunStatus } from '../contracts/status.js';

export type ComponentState = 'ok' | 'empty' | 'error';

export type AnalysisEvent =
  | { type: 'run_started'; run_id: string; run_dir: string; video: string; components: ComponentName[]; resumed: boolean }
  | { type: 'segmenter_progress'; run_id: string; done: number; total: number; eta_ms: number | null }
  | { type: 'segmenter_finished'; run_id: string; frames: number; duration_ms: number; reused: boolean }
  | { type: 'component_started'; run_id: string; component: ComponentName; batch_size: number | null }
  | { type: 'component_progress'; run_id: string; component: ComponentName; done: number; total: number; unit: string; eta_ms: number | null }
  | {
      type: 'component_finished';
      run_id: string;
      component: ComponentName;
      status: ComponentState;
      cache_hit: boolean;
      duration_ms: number;
      error: ManifestError | null;
      /** Components finished so far in this run, and how many it has. */
      finished: number;
      total: number;
    }
  | { type: 'run_finished'; run_id: string; status: RunStatus; error: ManifestError | null };

export type AnalysisEventListener = (event: AnalysisEvent) => void;

/** ETA from the rate so far: null until there is a rate to extrapolate. */
export function estimateRemainingMs(startedAt: number, now: number, done: number, total: number): number | null {
  if (done <= 0 || total <= 0 || done > total) return null;
  return Math.round(((now - startedAt) / done) * (total - done));
}
