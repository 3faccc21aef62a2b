/**
 * Where models live: the models dir (`--models-dir` / `TRENDFLOW_MODELS_DIR` / a per-user default) and the
 * files inside it. Layout:
 *
 *   <modelsDir>/<model_id>/<file>                  the model files
 *   <modelsDir>/<model_id>/.<file>.verified.json   verification stamp (size, mtime, inode, sha256)
 *   <modelsDir>/<model_id>/<file>.part             a download in progress (resumed by the next fetch)
 *   <modelsDir>/models.lock.json                   digests recorded for unpinned files
 *   <modelsDir>/local-registry.json                models added with `models add`
 */
import os from 'node:os';
import path from 'node:path';

export const MODELS_DIR_ENV = 'TRENDFLOW_MODELS_DIR';
export const LOCK_FILE_NAME = 'models.lock.json';
export const LOCAL_REGISTRY_FILE_NAME = 'local-registry.json';
export const PART_SUFFIX = '.part';

export interface ResolveModelsDirOptions {
  /** The `--models-dir` flag; wins over everything. */
  modelsDir?: string;
  /** For tests: the environment, platform and home folder to resolve against (default: this process's). */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  homedir?: string;
}

/**
 * The models dir: the flag, then `TRENDFLOW_MODELS_DIR`, then the per-user data folder + `trendflow/models`
 * (`$XDG_DATA_HOME` or `~/.local/share` on Linux, `%LOCALAPPDATA%` on Windows, `~/Library/Application Support`
 * on macOS). Always an absolute path; nothing is created.
 */
export function resolveModelsDir(opts: ResolveModelsDirOptions = {}): string {
  if (opts.modelsDir) return path.resolve(opts.modelsDir);
  const env = opts.env ?? process.env;
  const fromEnv = env[MODELS_DIR_ENV];
  if (fromEnv && fromEnv.trim() !== '') return path.resolve(fromEnv);
  const platform = opts.platform ?? process.platform;
  const home = opts.homedir ?? os.homedir();
  if (platform === 'win32') {
    const base = env.LOCALAPPDATA && path.win32.isAbsolute(env.LOCALAPPDATA) ? env.LOCALAPPDATA : path.win32.join(home, 'AppData', 'Local');
    return path.win32.join(base, 'trendflow', 'models');
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'trendflow', 'models');
  // XDG: a relative XDG_DATA_HOME is invalid and must be ignored
  const xdg = env.XDG_DATA_HOME && path.posix.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.posix.join(home, '.local', 'share');
  return path.posix.join(xdg, 'trendflow', 'models');
}

export function modelFolder(modelsDir: string, id: string): string {
  return path.join(modelsDir, id);
}

export function modelFilePath(modelsDir: string, id: string, fileName: string): string {
  return path.join(modelsDir, id, fileName);
}

export function stampPath(filePath: string): string {
  return path.join(path.dirname(filePath), `.${path.basename(filePath)}.verified.json`);
}

export function lockFilePath(modelsDir: string): string {
  return path.join(modelsDir, LOCK_FILE_NAME);
}

export function localRegistryPath(modelsDir: string): string {
  return path.join(modelsDir, LOCAL_REGISTRY_FILE_NAME);
}

function quoteArg(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : JSON.stringify(value);
}

/**
 * The exact `npx trendflow models …` command line for `modelsDir`: `--models-dir` is added only when the
 * directory is not the one the command would pick by itself (env or per-user default).
 */
export function modelsCommand(args: string[], modelsDir: string): string {
  const parts = ['npx', 'trendflow', 'models', ...args.map(quoteArg)];
  if (path.resolve(modelsDir) !== resolveModelsDir()) parts.push('--models-dir', quoteArg(path.resolve(modelsDir)));
  return parts.join(' ');
}
