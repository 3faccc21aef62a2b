/**
 * The frames a vision provider analyses: exactly the frame_indices the Segmenter sampled for it (seed 002 §5).
 * There is no fallback sampling: missing or empty indices are `sampling_missing`.
 */
import type { ComponentName } from '../../contracts/components.js';
import { TrendflowError } from '../../contracts/errors.js';
import { FrameManager } from '../../segmenter/frame-manager.js';

export interface SampledFrames {
  frames: FrameManager;
  /** Union-domain indices of the component's frames, sorted and unique. */
  indices: number[];
}

/** Opens the frames_dir and returns the component's frame_indices; the caller closes `frames`. */
export async function openSampledFrames(framesDir: string, component: ComponentName): Promise<SampledFrames> {
  const frames = await FrameManager.open(framesDir);
  const indices = frames.metadata[component]?.frame_indices;
  if (!indices || indices.length === 0) {
    await frames.close();
    throw new TrendflowError('sampling_missing', `the frames_dir has no ${component} frame_indices (missing or empty); ${component} has no fallback sampling`, {
      path: frames.dir,
    });
  }
  return { frames, indices: [...indices] };
}
