/**
 * The run's snapshot files (`--snapshots DIR`) and the video's publication time from the metadata JSON (`--meta`),
 * as docs/SNAPSHOTS.md defines them (seed 002 §1–§2): every `*.json` file directly in the folder is one snapshot
 * of the video's counters, taken at `collected_at`. Read by temporal_snapshot_features, targets_builder_multi_horizon
 * and text_processor (comments). Every problem is `snapshot_invalid` / `metadata_invalid` naming the file and key.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';

/** The counters of one snapshot, in the names of the YouTube Data API the dataset was collected with. */
export const SNAPSHOT_COUNTERS = ['viewCount', 'likeCount', 'commentCount', 'subscriberCount', 'videoCount', 'viewCount_channel'] as const;
export type SnapshotCounter = (typeof SNAPSHOT_COUNTERS)[number];

export interface SnapshotComment {
  /** Stable id when the source has one (comment dynamics then match by id, else by author + text). */
  id: string | null;
  text: string;
  author: string | null;
  likeCount: number | null;
  replyCount: number | null;
  publishedAt: Date | null;
}

export interface Snapshot {
  /** File name inside the snapshots folder. */
  file: string;
  collectedAt: Date;
  /** null where the source hid or lacked the counter (never 0 in its place). */
  counts: Record<SnapshotCounter, number | null>;
  /** null when the snapshot has no `comments` key (not collected); [] when collected and none were there. */
  comments: SnapshotComment[] | null;
}

export interface SnapshotSet {
  dir: string;
  /** Ordered by collection time; [0] is snapshot 1 (t0). */
  snapshots: Snapshot[];
  /** Entries of the folder that are not snapshots (subfolders, other extensions), for the record. */
  ignored: string[];
}

/** ISO 8601 with a time zone (`Z` or `±hh:mm`): a timestamp without one is ambiguous across collection machines. */
const ZONED_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function parseZonedTime(value: unknown): Date | null {
  if (typeof value !== 'string' || !ZONED_TIMESTAMP.test(value)) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time);
}

function invalid(file: string, key: string, message: string): TrendflowError {
  return new TrendflowError('snapshot_invalid', message, { path: file, key });
}

/** A counter: a non-negative integer, or a string of digits (the Data API sends counts as strings); null when absent. */
function counter(value: unknown, file: string, key: string): number | null {
  if (value === undefined || value === null) return null;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw invalid(file, key, `${key} must be a non-negative integer (or a string of digits) or null, got ${JSON.stringify(value)}`);
  }
  return number;
}

function optionalString(value: unknown, file: string, key: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(file, key, `${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function parseComments(value: unknown, file: string): SnapshotComment[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw invalid(file, 'comments', 'comments must be a list');
  return value.map((entry: unknown, i) => {
    const key = `comments[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw invalid(file, key, `${key} must be an object`);
    const c = entry as Record<string, unknown>;
    if (typeof c.text !== 'string') throw invalid(file, `${key}.text`, `${key}.text must be a string`);
    const published = c.publishedAt === undefined || c.publishedAt === null ? null : parseZonedTime(c.publishedAt);
    if (published === null && c.publishedAt !== undefined && c.publishedAt !== null) {
      throw invalid(file, `${key}.publishedAt`, `${key}.publishedAt must be an ISO 8601 time with a zone, got ${JSON.stringify(c.publishedAt)}`);
    }
    return {
      id: optionalString(c.id, file, `${key}.id`),
      text: c.text,
      author: optionalString(c.authorName ?? c.author, file, `${key}.authorName`),
      likeCount: counter(c.likeCount, file, `${key}.likeCount`),
      replyCount: counter(c.replyCount, file, `${key}.replyCount`),
      publishedAt: published,
    };
  });
}

/** One snapshot file. */
export function parseSnapshot(json: unknown, file: string): Omit<Snapshot, 'file'> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw invalid(file, '', 'a snapshot must be a JSON object');
  const record = json as Record<string, unknown>;
  const collectedAt = parseZonedTime(record.collected_at);
  if (!collectedAt) {
    throw invalid(file, 'collected_at', `collected_at must be an ISO 8601 time with a zone (e.g. 2024-03-01T12:00:00Z), got ${JSON.stringify(record.collected_at)}`);
  }
  const counts = Object.fromEntries(SNAPSHOT_COUNTERS.map((key) => [key, counter(record[key], file, key)])) as Record<SnapshotCounter, number | null>;
  return { collectedAt, counts, comments: parseComments(record.comments, file) };
}

async function readJson(file: string, code: 'snapshot_invalid' | 'metadata_invalid'): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new TrendflowError('file_read_failed', `cannot read ${file}: ${(error as Error).message}`, { path: file, cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TrendflowError(code, `not valid JSON: ${(error as Error).message}`, { path: file, cause: error });
  }
}

/**
 * Every snapshot in `dir`, ordered by collection time. Two snapshots taken at the same instant are
 * `snapshot_invalid` (which one holds the truth is unknowable); so is a snapshot naming another video than
 * `videoId` (when given).
 */
export async function readSnapshots(dir: string, videoId: string | null): Promise<SnapshotSet> {
  const absolute = path.resolve(dir);
  let entries;
  try {
    entries = await fs.readdir(absolute, { withFileTypes: true });
  } catch (error) {
    throw new TrendflowError('invalid_argument', `the snapshots folder cannot be read: ${(error as Error).message}`, { path: absolute, cause: error });
  }
  const snapshots: Snapshot[] = [];
  const ignored: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!entry.isFile() || !entry.name.toLowerCase().endsWith('.json')) {
      ignored.push(entry.name);
      continue;
    }
    const file = path.join(absolute, entry.name);
    const json = await readJson(file, 'snapshot_invalid');
    const other = (json as { video_id?: unknown } | null)?.video_id;
    if (videoId !== null && other !== undefined && other !== videoId) {
      throw invalid(file, 'video_id', `the snapshot is of video ${JSON.stringify(other)}, the run of ${JSON.stringify(videoId)}`);
    }
    snapshots.push({ file: entry.name, ...parseSnapshot(json, file) });
  }
  snapshots.sort((a, b) => a.collectedAt.getTime() - b.collectedAt.getTime());
  for (let i = 1; i < snapshots.length; i++) {
    if (snapshots[i]!.collectedAt.getTime() === snapshots[i - 1]!.collectedAt.getTime()) {
      throw invalid(path.join(absolute, snapshots[i]!.file), 'collected_at', `collected at the same time as ${snapshots[i - 1]!.file}`);
    }
  }
  return { dir: absolute, snapshots, ignored };
}

/** The metadata JSON as an object (`metadata_invalid` when it is not one). */
export async function readMetadataJson(file: string): Promise<Record<string, unknown>> {
  const json = await readJson(path.resolve(file), 'metadata_invalid');
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TrendflowError('metadata_invalid', 'the metadata JSON must be an object', { path: file });
  return json as Record<string, unknown>;
}

/** `publishedAt` of the metadata JSON; null when absent, `metadata_invalid` when not a zoned ISO 8601 time. */
export function publishedAtOf(metadata: Record<string, unknown>, file: string): Date | null {
  if (metadata.publishedAt === undefined || metadata.publishedAt === null) return null;
  const published = parseZonedTime(metadata.publishedAt);
  if (!published) {
    throw new TrendflowError('metadata_invalid', `publishedAt must be an ISO 8601 time with a zone, got ${JSON.stringify(metadata.publishedAt)}`, { path: file, key: 'publishedAt' });
  }
  return published;
}

/** The run's video id when it comes from the metadata JSON (a `file-…` id is derived from the bytes, not named). */
export function namedVideoId(videoId: string): string | null {
  return videoId.startsWith('file-') ? null : videoId;
}
