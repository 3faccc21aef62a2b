/**
 * Locating ffmpeg and ffprobe.
 *
 * Each tool is looked up independently, in this order, and the first candidate that exists AND runs `-version`
 * with the right banner wins:
 *   1. the environment variable (`TRENDFLOW_FFMPEG` / `TRENDFLOW_FFPROBE`): when set it is authoritative. A path
 *      that does not exist, is not a file, does not run or is the wrong tool is an error (`ffmpeg_not_found`);
 *      there is no fallback to the other places.
 *   2. the packaged binary of the optional dependency (`ffmpeg-static` / `@ffprobe-installer/ffprobe`), when the
 *      package is installed and its binary for this platform/arch is present and runs. ffprobe comes from
 *      @ffprobe-installer because it installs only this platform's binary (one ~75 MB package, ffprobe 5.x), where
 *      ffprobe-static ships all six platforms (~340 MB) of a 2018 ffprobe 4.0;
 *   3. `ffmpeg` / `ffprobe` on PATH (with PATHEXT on Windows).
 * When none works: `ffmpeg_not_found`, naming every place tried and why it was rejected. The result (or the
 * rejection reasons of skipped candidates) is cached per tool, environment value and PATH.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';

export type ToolName = 'ffmpeg' | 'ffprobe';
export type ToolSource = 'env' | 'package' | 'path';

export interface ToolInfo {
  name: ToolName;
  /** Absolute path of the executable that is run. */
  path: string;
  /** Where it was found. */
  source: ToolSource;
  /** The version word of the banner, e.g. `5.1.9-0+deb12u1`, `4.0.2-static`, `N-113123-gabc`. */
  version: string;
  /** Major/minor parsed from `version`; null for git builds (`N-…`), which are treated as the newest. */
  major: number | null;
  minor: number | null;
  /** The first line of `-version`. */
  banner: string;
  /** Why earlier candidates were skipped (e.g. `ffmpeg-static: package not installed`); empty when the first won. */
  skipped: string[];
}

export const TOOL_ENV_VARS: Record<ToolName, string> = {
  ffmpeg: 'TRENDFLOW_FFMPEG',
  ffprobe: 'TRENDFLOW_FFPROBE',
};

export const TOOL_PACKAGES: Record<ToolName, string> = {
  ffmpeg: 'ffmpeg-static',
  ffprobe: '@ffprobe-installer/ffprobe',
};

const VERSION_TIMEOUT_MS = 20_000;
const require = createRequire(import.meta.url);
const cache = new Map<string, Promise<ToolInfo>>();

/** Forget every located tool (tests that change the environment call this). */
export function clearToolCache(): void {
  cache.clear();
}

export function locateFfmpeg(): Promise<ToolInfo> {
  return locateTool('ffmpeg');
}

export function locateFfprobe(): Promise<ToolInfo> {
  return locateTool('ffprobe');
}

/** Locate and verify one tool (cached; a failure is not cached so that installing the tool later helps). */
export function locateTool(name: ToolName): Promise<ToolInfo> {
  const envValue = process.env[TOOL_ENV_VARS[name]] ?? '';
  const key = [name, envValue, process.env.PATH ?? ''].join('\0');
  let found = cache.get(key);
  if (!found) {
    found = findTool(name, envValue);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

async function findTool(name: ToolName, envValue: string): Promise<ToolInfo> {
  const envVar = TOOL_ENV_VARS[name];
  const skipped: string[] = [];

  // 1. Environment variable: authoritative, no fallback.
  if (envValue.trim() !== '') {
    const candidate = path.resolve(envValue);
    const problem = fileProblem(candidate);
    if (problem) {
      throw new TrendflowError('ffmpeg_not_found', `${envVar}=${envValue}: ${problem} (the variable is set, so no other place is tried)`, {
        path: candidate,
      });
    }
    try {
      return await verify(name, candidate, 'env', skipped);
    } catch (error) {
      throw new TrendflowError('ffmpeg_not_found', `${envVar}=${envValue}: ${reason(error)} (the variable is set, so no other place is tried)`, {
        path: candidate,
        cause: error,
      });
    }
  }
  skipped.push(`${envVar}: not set`);

  // 2. The packaged binary of the optional dependency.
  const pkg = TOOL_PACKAGES[name];
  const packaged = packagedBinary(name);
  if ('path' in packaged) {
    try {
      return await verify(name, packaged.path, 'package', skipped);
    } catch (error) {
      skipped.push(`${pkg}: ${packaged.path} does not run (${reason(error)})`);
    }
  } else {
    skipped.push(`${pkg}: ${packaged.problem}`);
  }

  // 3. PATH.
  const onPath = searchPath(name);
  for (const candidate of onPath) {
    try {
      return await verify(name, candidate, 'path', skipped);
    } catch (error) {
      skipped.push(`PATH: ${candidate} does not run (${reason(error)})`);
    }
  }
  if (onPath.length === 0) skipped.push(`PATH: no ${name} executable in ${process.env.PATH ?? '(PATH not set)'}`);

  throw new TrendflowError(
    'ffmpeg_not_found',
    `${name} not found; tried ${skipped.join('; ')}. Install ffmpeg (e.g. apt-get install ffmpeg) or set ${envVar} to the ${name} executable`,
  );
}

function exeSuffix(): string {
  return process.platform === 'win32' ? '.exe' : '';
}

/** Inside a packaged Electron app binaries must be read from app.asar.unpacked, not from the archive. */
function unpackAsar(file: string): string {
  return file.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}

/**
 * The binary path of `ffmpeg-static` / `@ffprobe-installer/ffprobe`, computed from the packages' layout rather
 * than by importing their entry points (@ffprobe-installer's entry throws on unsupported platforms, and
 * ffmpeg-static's entry silently honours its own FFMPEG_BIN variable).
 */
function packagedBinary(name: ToolName): { path: string } | { problem: string } {
  const pkg = TOOL_PACKAGES[name];
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${pkg}/package.json`);
  } catch {
    return { problem: 'package not installed' };
  }
  const dir = path.dirname(manifestPath);
  let binary: string;
  if (name === 'ffmpeg') {
    let base = 'ffmpeg';
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
      const own = manifest[pkg] as Record<string, unknown> | undefined;
      if (own && typeof own['executable-base-name'] === 'string') base = own['executable-base-name'];
    } catch {
      // keep the default name
    }
    binary = path.join(dir, base + exeSuffix());
  } else {
    // the umbrella package pulls in one optional per-platform package that holds the binary at its root
    const platformPackage = `@ffprobe-installer/${process.platform}-${process.arch}/package.json`;
    try {
      binary = path.join(path.dirname(createRequire(manifestPath).resolve(platformPackage)), 'ffprobe' + exeSuffix());
    } catch {
      return { problem: `no binary package for ${process.platform}/${process.arch} (${platformPackage})` };
    }
  }
  binary = unpackAsar(binary);
  const problem = fileProblem(binary);
  if (problem) {
    const hint = name === 'ffmpeg' ? ' (its install script downloads the binary; it fails offline)' : ` (no binary for ${process.platform}/${process.arch})`;
    return { problem: `binary ${binary} ${problem}${hint}` };
  }
  return { path: binary };
}

/** Executables named `name` on PATH, in PATH order. */
function searchPath(name: ToolName): string[] {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '');
  const extensions =
    process.platform === 'win32'
      ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)
      : [''];
  const found: string[] = [];
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = path.resolve(dir, name + ext.toLowerCase());
      if (!fileProblem(candidate) && !found.includes(candidate)) found.push(candidate);
    }
  }
  return found;
}

/** Why `file` cannot be an executable, or null when it can. */
function fileProblem(file: string): string | null {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    return 'does not exist';
  }
  if (!isFile) return 'is not a file';
  if (process.platform !== 'win32') {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      return 'is not executable';
    }
  }
  return null;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Run `<file> -version`, check the banner names the right tool and parse its version. */
function verify(name: ToolName, file: string, source: ToolSource, skipped: string[]): Promise<ToolInfo> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      ['-version'],
      { timeout: VERSION_TIMEOUT_MS, windowsHide: true, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout) => {
        if (error) {
          reject(new Error(`\`${file} -version\` failed: ${error.message.split('\n')[0]}`));
          return;
        }
        const banner = stdout.split(/\r?\n/)[0]?.trim() ?? '';
        const match = /^(\S+) version (\S+)/.exec(banner);
        if (!match || match[1] !== name) {
          reject(new Error(`not ${name} (its -version output begins ${JSON.stringify(banner.slice(0, 80))})`));
          return;
        }
        const version = match[2] ?? '';
        const numbers = /^n?(\d+)(?:\.(\d+))?/.exec(version);
        resolve({
          name,
          path: file,
          source,
          version,
          major: numbers ? Number(numbers[1]) : null,
          minor: numbers ? Number(numbers[2] ?? 0) : null,
          banner,
          skipped: [...skipped],
        });
      },
    );
  });
}

/** True when the tool is at least `major.minor` (git builds without a release number count as newest). */
export function atLeast(tool: ToolInfo, major: number, minor = 0): boolean {
  if (tool.major === null) return true;
  return tool.major > major || (tool.major === major && (tool.minor ?? 0) >= minor);
}
