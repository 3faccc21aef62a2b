import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrendflowError } from '../contracts/errors.js';
import { atLeast, clearToolCache, locateFfmpeg, locateFfprobe, TOOL_PACKAGES, type ToolInfo } from './tools.js';

const saved = {
  TRENDFLOW_FFMPEG: process.env.TRENDFLOW_FFMPEG,
  TRENDFLOW_FFPROBE: process.env.TRENDFLOW_FFPROBE,
  PATH: process.env.PATH,
};

function restore(): void {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  clearToolCache();
}

beforeEach(() => {
  delete process.env.TRENDFLOW_FFMPEG;
  delete process.env.TRENDFLOW_FFPROBE;
  clearToolCache();
});
afterEach(restore);

/** Where the optional packaged binary would be, and whether it is there. */
function packaged(name: 'ffmpeg' | 'ffprobe'): string | null {
  const require = createRequire(import.meta.url);
  const exe = process.platform === 'win32' ? '.exe' : '';
  const binaryPackage = name === 'ffmpeg' ? 'ffmpeg-static' : `@ffprobe-installer/${process.platform}-${process.arch}`;
  try {
    const file = path.join(path.dirname(require.resolve(`${binaryPackage}/package.json`)), `${name}${exe}`);
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

async function codeOf(promise: Promise<unknown>): Promise<TrendflowError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TrendflowError);
  return error as TrendflowError;
}

describe('locating ffmpeg and ffprobe', () => {
  it('finds both, verified by -version, preferring the packaged binary over PATH', async () => {
    for (const [name, locate] of [
      ['ffmpeg', locateFfmpeg],
      ['ffprobe', locateFfprobe],
    ] as const) {
      const tool = await locate();
      expect(tool.name).toBe(name);
      expect(tool.banner).toMatch(new RegExp(`^${name} version `));
      expect(path.isAbsolute(tool.path)).toBe(true);
      const bundled = packaged(name);
      if (bundled) {
        expect(tool.source).toBe('package');
        expect(tool.path).toBe(bundled);
      } else {
        expect(tool.source).toBe('path');
        expect(tool.skipped.join('\n')).toContain(TOOL_PACKAGES[name]);
      }
      expect(tool.skipped[0]).toMatch(/TRENDFLOW_FF(MPEG|PROBE): not set/);
    }
  });

  it('caches the located tool', async () => {
    expect(await locateFfmpeg()).toBe(await locateFfmpeg());
  });

  it('uses the environment variable when set', async () => {
    const real = await locateFfmpeg();
    process.env.TRENDFLOW_FFMPEG = real.path;
    clearToolCache();
    const tool = await locateFfmpeg();
    expect(tool.source).toBe('env');
    expect(tool.path).toBe(real.path);
    expect(tool.skipped).toEqual([]);
  });

  it('a bad path in the environment is an error, with no fallback', async () => {
    const missing = path.join(path.sep, 'no', 'such', 'ffmpeg');
    process.env.TRENDFLOW_FFMPEG = missing;
    const error = await codeOf(locateFfmpeg());
    expect(error.code).toBe('ffmpeg_not_found');
    expect(error.message).toContain('TRENDFLOW_FFMPEG');
    expect(error.message).toContain(missing);
    expect(error.message).toMatch(/does not exist/);
  });

  it('the environment naming the wrong tool is an error', async () => {
    const ffmpeg = await locateFfmpeg();
    process.env.TRENDFLOW_FFPROBE = ffmpeg.path;
    const error = await codeOf(locateFfprobe());
    expect(error.code).toBe('ffmpeg_not_found');
    expect(error.message).toMatch(/not ffprobe/);
  });

  it('the environment naming a directory is an error', async () => {
    process.env.TRENDFLOW_FFPROBE = path.dirname((await locateFfprobe()).path);
    clearToolCache();
    const error = await codeOf(locateFfprobe());
    expect(error.code).toBe('ffmpeg_not_found');
    expect(error.message).toMatch(/is not a file/);
  });

  it.skipIf(packaged('ffmpeg') !== null)('nothing anywhere → ffmpeg_not_found naming every place tried', async () => {
    process.env.PATH = path.join(path.sep, 'nonexistent-bin');
    const error = await codeOf(locateFfmpeg());
    expect(error.code).toBe('ffmpeg_not_found');
    expect(error.message).toContain('TRENDFLOW_FFMPEG: not set');
    expect(error.message).toContain('ffmpeg-static');
    expect(error.message).toContain('nonexistent-bin');
  });

  it('compares versions', () => {
    const tool = (major: number | null, minor: number | null): ToolInfo => ({
      name: 'ffmpeg',
      path: '/x',
      source: 'path',
      version: '',
      major,
      minor,
      banner: '',
      skipped: [],
    });
    expect(atLeast(tool(5, 1), 5, 1)).toBe(true);
    expect(atLeast(tool(5, 0), 5, 1)).toBe(false);
    expect(atLeast(tool(4, 4), 5)).toBe(false);
    expect(atLeast(tool(7, 0), 5, 1)).toBe(true);
    expect(atLeast(tool(null, null), 6)).toBe(true);
  });
});
