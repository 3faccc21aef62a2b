/**
 * Puts videos on the queue, one job per video (seed 002 §9: 1 video = 1 job). The job id is the run key the
 * orchestrator would give the run — the video's content (its video_id, from the sha256 of its bytes) and the
 * config_hash of the resolved run config — so the same video under the same config is never queued twice,
 * wherever its file lies and whatever it is called. Returns as soon as the jobs are in Redis.
 */
import path from 'node:path';
import type { ComponentName } from '../contracts/components.js';
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import { builtinProfileNames, DEFAULT_PROFILE, loadProfile } from '../pipeline/profile.js';
import { COMPONENTS } from '../pipeline/registry.js';
import { resolveRunConfig } from '../pipeline/run-config.js';
import { loadRegistry } from '../runtime/registry/index.js';
import { hashFile } from '../store/hash.js';
import { configHash, fileVideoId, LOCAL_PLATFORM_ID } from '../store/identity.js';
import { checkInputFile } from '../video/process.js';
import { ANALYZE_JOB, withQueue, type AnalysisJobData } from './queue.js';

/** BullMQ's priority range: 1 runs first; a job without a priority runs before every prioritized one. */
export const MAX_PRIORITY = 2_097_151;
export const DEFAULT_ATTEMPTS = 3;
/** First retry delay of a transient failure; each later one doubles it. */
export const DEFAULT_BACKOFF_MS = 10_000;

export interface EnqueueOptions {
  redisUrl: string;
  videos: readonly string[];
  /** A built-in profile name or a profile file (default tier0); a file must be reachable at this path by the workers. */
  profile?: string | undefined;
  components?: readonly ComponentName[] | undefined;
  priority?: number | undefined;
  modelsDir: string;
  /** Tries per job for transient failures (default 3). */
  attempts?: number | undefined;
  backoffMs?: number | undefined;
}

export interface EnqueueResult {
  video: string;
  job_id: string | null;
  /** `queued`: a new job; `exists`: the job was already on the queue (in any state), nothing was added; `error`: not queued. */
  outcome: 'queued' | 'exists' | 'error';
  /** The existing job's state when outcome is `exists`. */
  state: string | null;
  error: { error_code: string; message: string } | null;
}

/** The job id of a video under a config: `<platform_id>.<video_id>.<first 16 hex of config_hash>` (BullMQ ids must not hold ':'). */
export function analysisJobId(platformId: string, videoId: string, configHashHex: string): string {
  return `${platformId}.${videoId}.${configHashHex.slice(0, 16)}`;
}

export async function enqueueVideos(options: EnqueueOptions): Promise<EnqueueResult[]> {
  if (options.priority !== undefined && (!Number.isInteger(options.priority) || options.priority < 1 || options.priority > MAX_PRIORITY)) {
    throw new TrendflowError('invalid_argument', `priority must be an integer from 1 (first) to ${MAX_PRIORITY}`);
  }
  const profileReference = options.profile ?? DEFAULT_PROFILE;
  const profile = await loadProfile(profileReference);
  const registry = await loadRegistry({ modelsDir: options.modelsDir });
  const config = resolveRunConfig({ profile, only: options.components, components: COMPONENTS, registry });
  const hash = configHash(config);
  // a profile file is handed to the workers by absolute path; a built-in one by name
  const profileForWorkers = (await builtinProfileNames()).includes(profileReference) ? profileReference : path.resolve(profileReference);
  return withQueue(options.redisUrl, async (queue) => {
    const results: EnqueueResult[] = [];
    for (const video of options.videos) {
      const file = path.resolve(video);
      try {
        await checkInputFile(file);
        const digest = await hashFile(file);
        const videoId = fileVideoId(digest.sha256);
        const jobId = analysisJobId(LOCAL_PLATFORM_ID, videoId, hash);
        const existing = await queue.getJob(jobId);
        if (existing) {
          results.push({ video: file, job_id: jobId, outcome: 'exists', state: await existing.getState(), error: null });
          continue;
        }
        const data: AnalysisJobData = {
          video: file,
          video_sha256: digest.sha256,
          video_bytes: digest.bytes,
          platform_id: LOCAL_PLATFORM_ID,
          video_id: videoId,
          config_hash: hash,
          profile: profileForWorkers,
          components: options.components ? [...options.components] : null,
          enqueued_at: new Date().toISOString(),
        };
        // add() with an id Redis already holds adds nothing, so two enqueuers racing still make one job
        await queue.add(ANALYZE_JOB, data, {
          jobId,
          ...(options.priority !== undefined ? { priority: options.priority } : {}),
          attempts: options.attempts ?? DEFAULT_ATTEMPTS,
          backoff: { type: 'exponential', delay: options.backoffMs ?? DEFAULT_BACKOFF_MS },
          // finished jobs stay (until `queue clean`): their ids are what makes a second enqueue a no-op
          removeOnComplete: false,
          removeOnFail: false,
        });
        results.push({ video: file, job_id: jobId, outcome: 'queued', state: null, error: null });
      } catch (error) {
        if (!isTrendflowError(error)) throw error;
        results.push({ video: file, job_id: null, outcome: 'error', state: null, error: { error_code: error.code, message: error.message } });
      }
    }
    return results;
  });
}
