/**
 * What `analysis.*` needs besides the jobs: which files a caller may analyse, the videos it may pick from, and the
 * profiles it may choose.
 *
 * Browser mode serves whoever holds the token over HTTP, so input files are limited to the video folders given by
 * the host (`TRENDFLOW_VIDEO_DIRS`, else `<workspace>/videos`): a path is resolved with realpath (symbolic links
 * followed) and must then lie inside one of them. Electron takes any local file: the user picks it in the native
 * dialog of their own desktop.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import type { ComponentName } from '../contracts/components.js';
import { ID_PATTERN } from '../store/identity.js';
import type { ApiError, ProfileInfo, ProfilesResult, VideoFileEntry } from './contract.js';

export const VIDEO_DIRS_ENV = 'TRENDFLOW_VIDEO_DIRS';
/** File name endings offered as videos (the Electron dialog's filter too). */
export const VIDEO_EXTENSIONS = ['mp4', 'mov', 'mkv', 'webm', 'avi', 'm4v', 'mpg', 'mpeg'] as const;
/** How deep and how many files `analysis.videos` lists: enough to pick from, bounded for a huge folder. */
const LIST_DEPTH = 3;
const LIST_MAX = 1000;

/** Browser mode's video folders: `$TRENDFLOW_VIDEO_DIRS` (path-list separated), else `<workspace>/videos`. */
export function defaultVideoDirs(workspace: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = (env[VIDEO_DIRS_ENV] ?? '').split(path.delimiter).filter((dir) => dir.trim() !== '');
  return (listed.length > 0 ? listed : [path.join(workspace, 'videos')]).map((dir) => path.resolve(dir));
}

function inside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * The absolute, real path of an input file the caller may use. `dirs` null: any file (Electron). Otherwise the
 * file's real path must be inside the real path of one of `dirs`: `access_denied` names the folders.
 */
export async function checkInputPath(file: string, dirs: string[] | null, what: string): Promise<string> {
  if (!path.isAbsolute(file)) throw new TrendflowError('invalid_argument', `the ${what} path must be absolute: ${file}`);
  if (dirs === null) return path.resolve(file);
  let real: string;
  try {
    real = await fs.realpath(file);
  } catch {
    // a missing file outside the folders must not tell the caller whether it exists
    throw new TrendflowError('access_denied', `the ${what} must be a file in the video folders (${dirs.join(', ')}): ${file}`);
  }
  const realDirs = await Promise.all(dirs.map((dir) => fs.realpath(dir).catch(() => null)));
  if (!realDirs.some((dir) => dir !== null && inside(dir, real))) {
    throw new TrendflowError('access_denied', `the ${what} must be a file in the video folders (${dirs.join(', ')}): ${file}`);
  }
  return real;
}

/** Video files under the folders (a few levels deep, hidden entries and symbolic links skipped), newest first. */
export async function listVideoFiles(dirs: string[]): Promise<{ videos: VideoFileEntry[]; truncated: boolean }> {
  const videos: VideoFileEntry[] = [];
  let truncated = false;
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const file = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < LIST_DEPTH) await walk(file, depth + 1);
      else if (entry.isFile() && (VIDEO_EXTENSIONS as readonly string[]).includes(path.extname(entry.name).slice(1).toLowerCase())) {
        if (videos.length >= LIST_MAX) {
          truncated = true;
          return;
        }
        const stat = await fs.stat(file).catch(() => null);
        if (stat) videos.push({ path: file, name: entry.name, bytes: stat.size, modified_at: stat.mtime.toISOString() });
      }
    }
  };
  for (const dir of dirs) await walk(dir, 1);
  videos.sort((a, b) => (a.modified_at < b.modified_at ? 1 : a.modified_at > b.modified_at ? -1 : a.path.localeCompare(b.path)));
  return { videos, truncated };
}

/** The workspace's own profiles: `<workspace>/profiles/<name>.json`, made by copying and editing a built-in one. */
export function workspaceProfilesDir(workspace: string): string {
  return path.join(workspace, 'profiles');
}

/**
 * What `analysis.start`'s `profile` names, as loadProfile takes it: a built-in name, else the workspace profile
 * file of that name. Built-in names win, so a workspace file cannot silently change what `tier0` means.
 */
export async function resolveProfileReference(name: string, workspace: string): Promise<string> {
  const { builtinProfileNames } = await import('../pipeline/profile.js');
  if ((await builtinProfileNames()).includes(name)) return name;
  const file = path.join(workspaceProfilesDir(workspace), `${name}.json`);
  try {
    await fs.access(file);
  } catch {
    throw new TrendflowError('invalid_argument', `no profile ${JSON.stringify(name)}: neither built in (${(await builtinProfileNames()).join(', ')}) nor ${file}`);
  }
  return file;
}

/** The built-in and workspace profiles with their components (`extends` resolved); broken files listed with why. */
export async function listProfiles(workspace: string): Promise<ProfilesResult> {
  const [{ builtinProfileNames, DEFAULT_PROFILE, loadProfile }, { COMPONENTS }] = await Promise.all([import('../pipeline/profile.js'), import('../pipeline/registry.js')]);
  const profiles: ProfileInfo[] = [];
  const problems: Array<{ file: string; error: ApiError }> = [];
  const builtin = await builtinProfileNames();
  const own = (await fs.readdir(workspaceProfilesDir(workspace)).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .filter((name) => ID_PATTERN.test(name) && !builtin.includes(name))
    .sort();
  const candidates = [...builtin.map((name) => ({ name, source: 'builtin' as const, ref: name })), ...own.map((name) => ({ name, source: 'workspace' as const, ref: path.join(workspaceProfilesDir(workspace), `${name}.json`) }))];
  for (const candidate of candidates) {
    try {
      const profile = await loadProfile(candidate.ref);
      profiles.push({
        name: candidate.name,
        description: profile.description,
        source: candidate.source,
        components: [...profile.components].map(([name, entry]) => ({ name: name as ComponentName, required: entry.required, implemented: COMPONENTS.has(name) })),
      });
    } catch (error) {
      problems.push({ file: candidate.ref, error: { code: error instanceof TrendflowError ? error.code : 'internal_error', message: (error as Error).message } });
    }
  }
  return { profiles, problems, default_profile: DEFAULT_PROFILE };
}
