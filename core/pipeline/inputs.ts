/**
 * The run's inputs besides the video: the metadata JSON (`--meta`, which may name platform_id and video_id,
 * DESIGN.md §4) and the snapshots folder (`--snapshots`). Both are digested, because the components that read them
 * key their cache on what they read.
 */
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import { hashFile } from '../store/hash.js';
import { configHash } from '../store/identity.js';

export interface MetadataInput {
  path: string;
  sha256: string;
  platform_id: string | undefined;
  video_id: string | undefined;
}

/** Reads `--meta`: a JSON object; `platform_id` and `video_id`, when present, must be strings. */
export async function readMetadataInput(file: string): Promise<MetadataInput> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await fs.readFile(absolute, 'utf8');
  } catch (error) {
    throw new TrendflowError('file_read_failed', `cannot read the metadata JSON: ${(error as Error).message}`, { path: absolute, cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('invalid_argument', `the metadata file is not valid JSON: ${(error as Error).message}`, { path: absolute, cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TrendflowError('invalid_argument', 'the metadata JSON must be an object', { path: absolute });
  }
  const record = value as Record<string, unknown>;
  for (const key of ['platform_id', 'video_id']) {
    if (record[key] !== undefined && typeof record[key] !== 'string') {
      throw new TrendflowError('invalid_argument', `the metadata JSON's ${key} must be a string`, { path: absolute, key });
    }
  }
  const digest = await hashFile(absolute);
  return { path: absolute, sha256: digest.sha256, platform_id: record.platform_id as string | undefined, video_id: record.video_id as string | undefined };
}

/** A digest of a folder: the sorted relative paths of its files with their sha256. */
export async function digestFolder(dir: string): Promise<{ path: string; digest: string }> {
  const absolute = path.resolve(dir);
  const files: { path: string; sha256: string }[] = [];
  const walk = async (folder: string, prefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(folder, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const what = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : (error as Error).message;
      throw new TrendflowError(code === 'ENOENT' || code === 'ENOTDIR' ? 'invalid_argument' : 'file_read_failed', `the snapshots folder ${what}`, { path: folder, cause: error });
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path.join(folder, entry.name), relative);
      else if (entry.isFile()) files.push({ path: relative, sha256: (await hashFile(path.join(folder, entry.name))).sha256 });
    }
  };
  await walk(absolute, '');
  return { path: absolute, digest: configHash(files) };
}
