/**
 * What every pipeline component receives from the orchestrator (DESIGN.md §9). Components read other components
 * only through their artifacts in `runDir`, and frames only through the frames_dir.
 */
import type { RunIdentity } from '../contracts/meta.js';

export interface ComponentProgress {
  done: number;
  total: number;
  /** What is counted: 'frames', 'prompts', … */
  unit: string;
}

export interface ComponentContext {
  identity: RunIdentity;
  /** `result_store/<platform>/<video>/<run>/`: artifacts go to `<runDir>/<component>/`. */
  runDir: string;
  /** The run's finished frames_dir (segmenter output). */
  framesDir: string;
  signal?: AbortSignal;
  onProgress?: (progress: ComponentProgress) => void;
}
