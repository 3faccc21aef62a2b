/**
 * `trendflow runs [--status S] [--video ID] [--limit N] [--store DIR] [--json]`: the runs of a workspace from its
 * index, newest first. The index is first brought in step with result_store (core/index/sync.ts): a run whose
 * writer died is shown, and recorded, as interrupted.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { RUN_STATUSES, type RunStatus } from '../../contracts/status.js';
import type { RunIndex, RunRow } from '../../index/db.js';
import { openIndex, reconcileIndex } from '../../index/sync.js';
import { resolveWorkspace } from '../../store/paths.js';
import { STORE_OPTION_HELP } from './analyze.js';

interface RunsCliOptions {
  status?: RunStatus;
  video?: string;
  limit?: number;
  store?: string;
  json?: boolean;
}

function parseStatus(value: string): RunStatus {
  if (!(RUN_STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${RUN_STATUSES.join(', ')}`);
  return value as RunStatus;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive whole number');
  return n;
}

/** A run as `runs --json` lists it: the index row plus each component's status. */
export function runSummary(index: RunIndex, row: RunRow): Record<string, unknown> {
  const components = Object.fromEntries(index.components(row).map((c) => [c.name, c.status]));
  return { ...row, components };
}

export function registerRunsCommand(program: Command): void {
  program
    .command('runs')
    .description('list the runs of the workspace (newest first)')
    .option('--status <status>', `only runs with this status (${RUN_STATUSES.join(', ')})`, parseStatus)
    .option('--video <video_id>', 'only runs of this video_id')
    .option('--limit <n>', 'at most this many runs', parseLimit)
    .option('--store <dir>', STORE_OPTION_HELP)
    .option('--json', 'a JSON array of runs on stdout')
    .action(async (options: RunsCliOptions) => {
      const workspace = resolveWorkspace({ workspace: options.store });
      const index = await openIndex(workspace);
      try {
        await reconcileIndex(index, workspace);
        const rows = index.listRuns({ ...(options.status ? { status: options.status } : {}), ...(options.video ? { videoId: options.video } : {}), ...(options.limit ? { limit: options.limit } : {}) });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows.map((row) => runSummary(index, row)))}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('no runs\n');
          return;
        }
        for (const row of rows) {
          const counts = new Map<string, number>();
          for (const c of index.components(row)) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
          const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(', ') || 'no components';
          process.stdout.write(
            `${row.run_id}  ${row.status.padEnd(11)} ${row.platform_id}/${row.video_id}  ${row.profile ?? '-'}  ${row.created_at}  ${summary}${row.error_code ? `  ${row.error_code}` : ''}\n    ${row.run_dir}\n`,
          );
        }
      } finally {
        index.close();
      }
    });
}
