/** `trendflow segment`: in-process for the details, and through the built CLI (`npm test` builds first). */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { FRAME_COMPONENTS } from '../../segmenter/policy.js';
import { registerSegmentCommand } from './segment.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const tmp = useTempDirs('segment-cli-');
let fx: VideoFixtures;
beforeAll(async () => {
  fx = await VideoFixtures.create();
});
afterAll(async () => {
  await fx?.cleanup();
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function segmentInProcess(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerSegmentCommand(program);
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  await program.parseAsync(['segment', ...args], { from: 'user' });
  return out;
}

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/trendflow.js', 'segment', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
}

interface Summary {
  frames_dir: string;
  metadata: string;
  frames_npy: string;
  signals_npz: string;
  frame_count: number;
  frame_shape: number[];
  analysis_fps: number;
  analysis_width: number;
  analysis_height: number;
  below_min_resolution: boolean;
  analysis_frame_count: number;
  cut_candidate_count: number;
  sampling_policy_version: string;
  components: Record<string, number>;
  source: { path: string; codec: string };
  warnings: string[];
  elapsed_ms: number;
}

describe('trendflow segment (in process)', () => {
  it('--json prints one summary object', async () => {
    const file = await fx.colors();
    const out = path.join(await tmp(), 'frames');
    const text = await segmentInProcess(file, '--out', out, '--json');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(1);
    const summary = JSON.parse(text) as Summary;
    expect(summary).toMatchObject({
      frames_dir: out,
      metadata: path.join(out, 'metadata.json'),
      frames_npy: path.join(out, 'frames.npy'),
      signals_npz: path.join(out, 'signals.npz'),
      frame_count: 30,
      frame_shape: [30, 48, 64, 3],
      analysis_fps: 10,
      analysis_width: 64,
      analysis_height: 48,
      below_min_resolution: true,
      analysis_frame_count: 30,
      cut_candidate_count: 2,
      source: { path: file, codec: 'h264' },
    });
    expect(Object.keys(summary.components)).toEqual(FRAME_COMPONENTS);
    expect(summary.elapsed_ms).toBeGreaterThanOrEqual(0);
    expect(readdirSync(out).sort()).toEqual(['frames.npy', 'metadata.json', 'signals.npz']);
  });

  it('passes --analysis-fps, --short-side and --components, and prints a summary for people', async () => {
    const out = path.join(await tmp(), 'frames');
    const text = await segmentInProcess(await fx.tall60(), '--out', out, '--analysis-fps', '4', '--short-side', '180', '--components', 'core_clip,loudness_extractor');
    expect(text).toContain(`frames_dir  ${out}\n`);
    expect(text).toMatch(/source +tall_1080x1920_60fps\.mp4: 1080x1920 h264, 60 fps, 1\.00 s, no audio/);
    expect(text).toMatch(/analysis +180x320 at 4 fps: 4 frames, 0 cut candidates/);
    expect(text).toMatch(/stored +4 frames/);
    expect(text).toMatch(/components +core_clip 4\n/);
  });

  it('input failures throw coded errors that name the input', async () => {
    const file = await fx.randomBytes();
    const parent = await tmp();
    await expect(segmentInProcess(file, '--out', path.join(parent, 'frames'))).rejects.toMatchObject({ code: 'video_unreadable', details: { path: file } });
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('trendflow segment (built CLI)', () => {
  it('writes the frames_dir, prints the JSON summary and exits 0', async () => {
    const file = await fx.hardCuts();
    const out = path.join(await tmp(), 'frames');
    const result = cli(file, '--out', out, '--json');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary).toMatchObject({ frames_dir: out, frame_count: 96, analysis_frame_count: 96, cut_candidate_count: 3, analysis_width: 160, analysis_height: 90 });
    expect(existsSync(path.join(out, 'metadata.json'))).toBe(true);

    // the same folder again: it exists and is not empty
    const again = cli(file, '--out', out, '--json');
    expect(again.status).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(new RegExp(`^trendflow: ${escape(out)}: frames_dir_exists: [^\\n]+\\n$`));
  });

  it('bad input: exit 1, one line `trendflow: <input>: <code>: <message>`, nothing at --out', async () => {
    const cases: Array<[string, string]> = [
      [await fx.empty(), 'video_empty_file'],
      [await fx.textFile('notes.mp4'), 'video_unreadable'],
      [await fx.m4a(), 'video_no_video_stream'],
      [await fx.zeroDuration(), 'video_zero_duration'],
    ];
    for (const [file, code] of cases) {
      const parent = await tmp();
      const result = cli(file, '--out', path.join(parent, 'frames'));
      expect(result.status, file).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr, file).toMatch(new RegExp(`^trendflow: ${escape(file)}: ${code}: [^\\n]+\\n$`));
      expect(readdirSync(parent)).toEqual([]);
    }
  });

  it('usage errors exit 2 without touching anything', async () => {
    const file = await fx.colors();
    const parent = await tmp();
    const out = path.join(parent, 'frames');
    const cases: Array<[string[], RegExp]> = [
      [[file], /required option '--out <dir>' not specified/],
      [['--out', out], /missing required argument 'video'/],
      [[file, '--out', out, '--analysis-fps', 'fast'], /--analysis-fps <n>.*not a number/],
      [[file, '--out', out, '--analysis-fps', '0'], /--analysis-fps <n>.*between 0\.1 and 60/],
      [[file, '--out', out, '--short-side', '1000'], /--short-side <px>.*between 16 and 720/],
      [[file, '--out', out, '--short-side', '359.5'], /--short-side <px>/],
      [[file, '--out', out, '--components', 'core_clip,nope'], /unknown component\(s\): nope/],
    ];
    for (const [args, message] of cases) {
      const result = cli(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stdout).toBe('');
    }
    expect(readdirSync(parent)).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
