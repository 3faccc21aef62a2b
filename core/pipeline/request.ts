/**
 * The run request: what a run was asked to do — the resolved config, the profile it came from, the input files
 * with their digests, and the options. `resume` needs it to finish a run exactly as it started (the manifest
 * holds only `config_hash`), and `index rebuild` reads the profile name from it. It lives in the workspace, not in
 * result_store (which holds no JSON but manifest.json, DESIGN.md §4):
 *
 *   <workspace>/run_requests/<platform_id>/<video_id>/<run_id>.json
 *
 * Written once, atomically, before the run's manifest exists; never changed afterwards.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { TrendflowError } from '../contracts/errors.js';
import type { RunIdentity } from '../contracts/meta.js';
import { writeFileAtomic } from '../store/atomic.js';
import { configHash, validateId } from '../store/identity.js';
import type { RunKey } from '../store/paths.js';
import { RUN_CONFIG_FORMAT, type RunConfig } from './run-config.js';

export const RUN_REQUEST_FORMAT = 'trendflow_run_request_v1';
export const RUN_REQUESTS_DIR = 'run_requests';

export interface InputFileDigest {
  /** Absolute path as given. */
  path: string;
  sha256: string;
}

export interface RunRequest {
  format: typeof RUN_REQUEST_FORMAT;
  identity: RunIdentity;
  profile: { name: string; file: string };
  config: RunConfig;
  inputs: {
    video: InputFileDigest & { bytes: number };
    metadata: InputFileDigest | null;
    /** The snapshots folder and a digest over its files' names and contents. */
    snapshots: { path: string; digest: string } | null;
  };
  options: { no_cache: boolean };
  created_at: string;
}

const SHA256 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const validateRequest = new Ajv({ allErrors: true }).compile({
  type: 'object',
  required: ['format', 'identity', 'profile', 'config', 'inputs', 'options', 'created_at'],
  properties: {
    format: { const: RUN_REQUEST_FORMAT },
    identity: { type: 'object', required: ['platform_id', 'video_id', 'run_id', 'config_hash', 'sampling_policy_version', 'dataprocessor_version'] },
    profile: { type: 'object', required: ['name', 'file'] },
    config: { type: 'object', required: ['format', 'segmenter', 'components', 'not_implemented'], properties: { format: { const: RUN_CONFIG_FORMAT } } },
    inputs: {
      type: 'object',
      required: ['video', 'metadata', 'snapshots'],
      properties: {
        video: { type: 'object', required: ['path', 'sha256', 'bytes'], properties: { sha256: SHA256 } },
        metadata: { anyOf: [{ type: 'null' }, { type: 'object', required: ['path', 'sha256'], properties: { sha256: SHA256 } }] },
        snapshots: { anyOf: [{ type: 'null' }, { type: 'object', required: ['path', 'digest'], properties: { digest: SHA256 } }] },
      },
    },
    options: { type: 'object', required: ['no_cache'] },
    created_at: { type: 'string' },
  },
});

export function runRequestPath(workspace: string, run: RunKey): string {
  return path.join(
    workspace,
    RUN_REQUESTS_DIR,
    validateId(run.platform_id, 'platform_id'),
    validateId(run.video_id, 'video_id'),
    `${validateId(run.run_id, 'run_id')}.json`,
  );
}

export async function writeRunRequest(workspace: string, request: RunRequest): Promise<string> {
  const file = runRequestPath(workspace, request.identity);
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
  } catch (error) {
    throw new TrendflowError('store_io_failed', `cannot create the run requests folder: ${(error as Error).message}`, { path: file, cause: error });
  }
  await writeFileAtomic(file, `${JSON.stringify(request, null, 2)}\n`);
  return file;
}

/**
 * Reads a run's request; null when there is none (a run made elsewhere and copied in). A request whose config
 * does not hash to its identity's config_hash was edited: refused, since resuming from it would mix configs.
 */
export async function readRunRequest(workspace: string, run: RunKey): Promise<RunRequest | null> {
  const file = runRequestPath(workspace, run);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TrendflowError('file_read_failed', `cannot read the run request: ${(error as Error).message}`, { path: file, cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('run_not_resumable', `the run request is not valid JSON: ${(error as Error).message}`, { path: file, cause: error });
  }
  if (!validateRequest(value)) {
    const why = (validateRequest.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new TrendflowError('run_not_resumable', `the run request does not match ${RUN_REQUEST_FORMAT}: ${why}`, { path: file });
  }
  const request = value as RunRequest;
  if (configHash(request.config) !== request.identity.config_hash) {
    throw new TrendflowError('run_not_resumable', `the run request's config does not hash to config_hash ${request.identity.config_hash}: it was edited`, { path: file });
  }
  return request;
}
