/**
 * `trendflow enqueue VIDEO...|--list FILE [--profile P] [--components a,b] [--priority N] [--redis URL]
 * [--models-dir DIR] [--json]`: one job per video on the batch queue (core/queue); returns at once.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { ComponentName } from '../../contracts/components.js';
import { TrendflowError } from '../../contracts/errors.js';
import { parseComponents } from './analyze.js';

interface EnqueueCliOptions {
  list?: string;
  profile?: string;
  components?: ComponentName[];
  priority?: number;
  redis?: string;
  modelsDir?: string;
  json?: boolean;
}

export const REDIS_OPTION_HELP = 'Redis URL of the queue (default: $TRENDFLOW_REDIS_URL, else redis://127.0.0.1:6379)';

export function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return number;
}

export function registerEnqueueCommand(program: Command): void {
  program
    .command('enqueue')
    .description('put videos on the batch queue (Redis), one job per video; the same video and config is never queued twice')
    .argument('[videos...]', 'video files (as the workers will see them: a path on the shared mount)')
    .option('--list <file>', 'a text file of videos, one path per line (relative to the file; blank lines and # comments skipped)')
    .option('--profile <name|file>', 'a built-in profile (tier0, full, quick) or a profile JSON file the workers can read (default tier0)')
    .option('--components <list>', 'run just these components (comma-separated) and what they require', parseComponents)
    .option('--priority <n>', 'job priority: 1 runs first (up to 2097151); jobs without one run before prioritized ones', parsePositiveInteger)
    .option('--redis <url>', REDIS_OPTION_HELP)
    .option('--models-dir <dir>', 'models folder whose registry resolves the config (default: $TRENDFLOW_MODELS_DIR, else the per-user data folder)')
    .option('--json', 'one JSON object per video on stdout')
    .addHelpText('after', '\nExit codes: 0 every video queued (or already on the queue), 1 a video could not be queued, 2 a usage error.')
    .action(async (videos: string[], options: EnqueueCliOptions, command: Command) => {
      const all = [...videos, ...(options.list ? await readList(options.list) : [])];
      if (all.length === 0) command.error('error: no videos: give VIDEO... or --list FILE', { exitCode: 2 });
      const [{ enqueueVideos }, { resolveRedisUrl }, { resolveModelsDir }] = await Promise.all([
        import('../../queue/enqueue.js'),
        import('../../queue/queue.js'),
        import('../../runtime/registry/index.js'),
      ]);
      const results = await enqueueVideos({
        redisUrl: resolveRedisUrl(options.redis),
        videos: all,
        profile: options.profile,
        components: options.components,
        priority: options.priority,
        modelsDir: resolveModelsDir(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir }),
      });
      for (const result of results) {
        if (result.error) process.stderr.write(`trendflow: ${result.video}: ${result.error.error_code}: ${result.error.message}\n`);
        if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else if (result.outcome !== 'error') process.stdout.write(`${result.outcome === 'queued' ? 'queued' : `already on the queue (${result.state})`}  ${result.job_id}  ${result.video}\n`);
      }
      process.exitCode = results.some((result) => result.outcome === 'error') ? 1 : 0;
    });
}

async function readList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new TrendflowError('file_read_failed', `cannot read the video list: ${(error as Error).message}`, { path: file, cause: error });
  }
  const base = path.dirname(path.resolve(file));
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => path.resolve(base, line));
}
