import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { isTrendflowError, TrendflowError } from '../../contracts/errors.js';
import { isComponentName, type ComponentName } from '../../contracts/components.js';
import { FRAMES_FILE, METADATA_FILE, PARAM_LIMITS, segmentVideo, SIGNALS_FILE, type FramesMetadata } from '../../segmenter/index.js';

interface SegmentCliOptions {
  out: string;
  analysisFps?: number;
  shortSide?: number;
  components?: ComponentName[];
  json?: boolean;
}

function parseNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError('not a number');
  return number;
}

/** Out-of-range option values are usage errors (exit 2), caught before the video is touched. */
function parseFps(value: string): number {
  const number = parseNumber(value);
  const { min, max } = PARAM_LIMITS.analysis_fps;
  if (number < min || number > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
  return number;
}

function parseShortSide(value: string): number {
  const number = parseNumber(value);
  const { min, max } = PARAM_LIMITS.analysis_short_side;
  if (!Number.isInteger(number) || number < min || number > max) throw new InvalidArgumentError(`must be a whole number of pixels between ${min} and ${max}`);
  return number;
}

function parseComponents(value: string): ComponentName[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !isComponentName(name));
  if (names.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`unknown component(s): ${unknown.join(', ') || '(none given)'}`);
  return names as ComponentName[];
}

/** `trendflow segment VIDEO --out DIR [--analysis-fps N] [--short-side PX] [--components a,b] [--json]`. */
export function registerSegmentCommand(program: Command): void {
  program
    .command('segment')
    .description('decode a video once and write a frames_dir: sampled RGB frames (frames.npy), cheap signals and metadata.json')
    .argument('<video>', 'video file')
    .requiredOption('--out <dir>', 'frames_dir to create (must not exist, or be empty)')
    .option('--analysis-fps <n>', 'analysis frame rate (default 12; never above a constant source rate)', parseFps)
    .option('--short-side <px>', 'shorter side of the analysis frames (default 360, at most 720; never upscaled)', parseShortSide)
    .option('--components <list>', 'comma-separated components to sample for (default: all that need frames)', parseComponents)
    .option('--json', 'print one JSON summary on stdout')
    .action(async (video: string, options: SegmentCliOptions) => {
      const started = performance.now();
      const progress = !options.json && process.stderr.isTTY;
      let result;
      try {
        result = await segmentVideo(video, {
          outDir: options.out,
          ...(options.analysisFps !== undefined ? { analysisFps: options.analysisFps } : {}),
          ...(options.shortSide !== undefined ? { analysisShortSide: options.shortSide } : {}),
          ...(options.components ? { components: options.components } : {}),
          ...(progress
            ? {
                onProgress: (p: { frames: number; expected: number }) =>
                  process.stderr.write(`\rsegmenting: ${p.frames}/${p.expected} analysis frames`),
              }
            : {}),
        });
      } catch (error) {
        if (progress) process.stderr.write('\n');
        // every failure names the input
        if (isTrendflowError(error) && !error.details.path) {
          throw new TrendflowError(error.code, error.message, { ...error.details, path: path.resolve(video) });
        }
        throw error;
      }
      if (progress) process.stderr.write('\n');
      const summary = summarize(result.frames_dir, result.metadata, performance.now() - started);
      process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : humanSummary(summary, result.metadata));
    });
}

interface Summary {
  frames_dir: string;
  metadata: string;
  frames_npy: string;
  signals_npz: string;
  frame_count: number;
  frame_shape: number[];
  frames_bytes: number;
  analysis_fps: number;
  analysis_width: number;
  analysis_height: number;
  below_min_resolution: boolean;
  analysis_frame_count: number;
  cut_candidate_count: number;
  sampling_policy_version: string;
  components: Record<string, number>;
  source: FramesMetadata['source'];
  warnings: string[];
  elapsed_ms: number;
}

function summarize(dir: string, meta: FramesMetadata, elapsedMs: number): Summary {
  const components: Record<string, number> = {};
  for (const name of meta.components) components[name] = meta[name]?.frame_indices.length ?? 0;
  return {
    frames_dir: dir,
    metadata: path.join(dir, METADATA_FILE),
    frames_npy: path.join(dir, FRAMES_FILE),
    signals_npz: path.join(dir, SIGNALS_FILE),
    frame_count: meta.frame_count,
    frame_shape: meta.frame_shape,
    frames_bytes: meta.ingest.frames_bytes,
    analysis_fps: meta.analysis_fps,
    analysis_width: meta.analysis_width,
    analysis_height: meta.analysis_height,
    below_min_resolution: meta.below_min_resolution,
    analysis_frame_count: meta.analysis_frame_count,
    cut_candidate_count: meta.cheap_signals.cut_candidate_count,
    sampling_policy_version: meta.sampling_policy_version,
    components,
    source: meta.source,
    warnings: meta.warnings,
    elapsed_ms: Math.round(elapsedMs),
  };
}

function humanSummary(s: Summary, meta: FramesMetadata): string {
  const src = s.source;
  const rotation = src.rotation_deg ? `, rotated ${src.rotation_deg}°` : '';
  const fps = src.fps === null ? '? fps' : `${Number(src.fps.toFixed(3))} fps${src.is_variable_frame_rate ? ' (variable)' : ''}`;
  const lines = [
    `frames_dir  ${s.frames_dir}`,
    `source      ${path.basename(src.path)}: ${src.display_width}x${src.display_height} ${src.codec}${rotation}, ${fps}, ${src.duration_sec.toFixed(2)} s, ${src.has_audio ? 'audio' : 'no audio'}`,
    `analysis    ${s.analysis_width}x${s.analysis_height}${s.below_min_resolution ? ` (below the ${meta.min_short_side} px minimum, not upscaled)` : ''} at ${Number(s.analysis_fps.toFixed(3))} fps: ${s.analysis_frame_count} frames, ${s.cut_candidate_count} cut candidates`,
    `stored      ${s.frame_count} frames (${(s.frames_bytes / 1e6).toFixed(1)} MB) in ${FRAMES_FILE}, ${meta.sampling_policy_version}`,
    `components  ${Object.entries(s.components).map(([name, count]) => `${name} ${count}`).join(', ')}`,
    ...s.warnings.map((w) => `warning     ${w}`),
    `time        ${(s.elapsed_ms / 1000).toFixed(2)} s`,
  ];
  return `${lines.join('\n')}\n`;
}
