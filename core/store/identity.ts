import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import type { ManifestRun } from '../contracts/manifest.js';
import type { RunIdentity } from '../contracts/meta.js';
import { DATAPROCESSOR_VERSION, SAMPLING_POLICY_VERSION } from '../contracts/version.js';
import { hashFile } from './hash.js';

/**
 * Ids become folder names in result_store and frames_dir, so they must be one safe path segment on every OS:
 * ASCII letters, digits, `_`, `-` and inner dots (no `..`, no trailing dot, which Windows strips), 1–128
 * characters. schemas/manifest.json uses the same pattern (a test compares them).
 */
export const ID_PATTERN = /^(?!.*\.\.)[A-Za-z0-9_-](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9_-])?$/;
export const ID_MAX_LENGTH = 128;

/** Device names Windows refuses as file names, with or without an extension. */
const WINDOWS_RESERVED_NAME = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\.|$)/i;

/** platform_id of a video analysed without metadata (DESIGN.md §4). */
export const LOCAL_PLATFORM_ID = 'local';

/** Returns `value` when it is a safe id, else throws `invalid_id` saying why. `label` names it in the message. */
export function validateId(value: unknown, label: string): string {
  const reason = idProblem(value);
  if (reason !== null) {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : String(value);
    throw new TrendflowError('invalid_id', `${label} ${shown} ${reason}`);
  }
  return value as string;
}

function idProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'is not a string';
  if (value.length === 0) return 'is empty';
  if (value.length > ID_MAX_LENGTH) return `is longer than ${ID_MAX_LENGTH} characters`;
  if (/[/\\]/.test(value)) return 'contains a path separator';
  if (value.includes('..')) return "contains '..'";
  if (!ID_PATTERN.test(value)) {
    return "is not a safe path segment (allowed: ASCII letters, digits, '_', '-' and inner '.')";
  }
  if (WINDOWS_RESERVED_NAME.test(value)) return 'is a reserved device name on Windows';
  return null;
}

/** video_id of a file without metadata: `file-` + the first 16 hex digits of its sha256. */
export function fileVideoId(sha256: string): string {
  return `file-${sha256.slice(0, 16)}`;
}

/**
 * A new run_id: `YYYYMMDDTHHMMSSZ-<8 random hex>` (UTC), e.g. `20261121T141500Z-9f1c2ab4`. Ids sort
 * lexicographically in creation order to the second; the 32 random bits keep runs started in the same second
 * apart (a collision is still caught: creating a run whose manifest exists fails with `run_exists`).
 */
export function generateRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '');
  return `${stamp}Z-${randomBytes(4).toString('hex')}`;
}

/**
 * Canonical JSON of plain data: object keys sorted (UTF-16 code unit order, as RFC 8785) at every level, no
 * whitespace, ECMAScript number formatting. Anything JSON cannot represent faithfully — NaN, ±Infinity,
 * undefined, functions, symbols, bigints, class instances (Date, Map, …), sparse arrays, cycles — is refused
 * with `invalid_argument` instead of being silently dropped or coerced, since that would change the hash.
 */
export function canonicalJson(value: unknown): string {
  return encodeCanonical(value, '$', new Set());
}

function encodeCanonical(value: unknown, at: string, ancestors: Set<object>): string {
  const refuse = (what: string): never => {
    throw new TrendflowError('invalid_argument', `config is not plain JSON data: ${at} is ${what}`);
  };
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : refuse(String(value));
    case 'object':
      break;
    default:
      return refuse(typeof value);
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) refuse('a circular reference');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) refuse(`a hole in a sparse array (index ${i})`);
        items.push(encodeCanonical(value[i], `${at}[${i}]`, ancestors));
      }
      return `[${items.join(',')}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) refuse(`a ${value.constructor?.name ?? 'non-plain'} object`);
    if (Object.getOwnPropertySymbols(value).length > 0) refuse('an object with symbol keys');
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${encodeCanonical(record[key], `${at}.${key}`, ancestors)}`);
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

/** config_hash: hex sha256 of the canonical JSON of the resolved run config (DESIGN.md §4). */
export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config), 'utf8').digest('hex');
}

export interface RunIdentityInput {
  /** The video file to analyse. */
  videoPath: string;
  /** platform_id and video_id from the video's metadata JSON, when one was given. */
  platformId?: string | undefined;
  videoId?: string | undefined;
  /** A caller-chosen run_id (`--run-id`); generated when absent. */
  runId?: string | undefined;
  /** The resolved run config (profile, component params, model mapping) as plain JSON data. */
  config: unknown;
  /** Clock for the generated run_id (tests). */
  now?: Date;
}

export type RunSource = Required<Pick<ManifestRun, 'source_path' | 'source_bytes' | 'source_sha256'>>;

export interface ResolvedRunIdentity {
  identity: RunIdentity;
  source: RunSource;
}

/**
 * Resolves a run's identity (DESIGN.md §4). The file is always hashed, streamed: its digest is the video_id
 * when no metadata names one, and it is recorded in the manifest so a run can be tied to the exact bytes.
 */
export async function resolveRunIdentity(input: RunIdentityInput): Promise<ResolvedRunIdentity> {
  const platformId = validateId(input.platformId ?? LOCAL_PLATFORM_ID, 'platform_id');
  if (input.videoId !== undefined) validateId(input.videoId, 'video_id');
  const runId = validateId(input.runId ?? generateRunId(input.now), 'run_id');
  const hash = configHash(input.config);
  const sourcePath = path.resolve(input.videoPath);
  const digest = await hashFile(sourcePath);
  return {
    identity: {
      platform_id: platformId,
      video_id: input.videoId ?? fileVideoId(digest.sha256),
      run_id: runId,
      config_hash: hash,
      sampling_policy_version: SAMPLING_POLICY_VERSION,
      dataprocessor_version: DATAPROCESSOR_VERSION,
    },
    source: { source_path: sourcePath, source_bytes: digest.bytes, source_sha256: digest.sha256 },
  };
}
