/**
 * `trendflow export RUN...|--all [--store DIR] --out DIR [--json]`: a training bundle of the runs (core/export/README.md).
 * RUN is a run_id or a run folder; --all takes every run of the store. Runs not ok are skipped and listed.
 */
import type { Command } from 'commander';
import { TrendflowError } from '../../contracts/errors.js';
import { exportBundle } from '../../export/bundle.js';
import { findRunDir } from '../../index/lookup.js';
import { openIndex, reconcileIndex } from '../../index/sync.js';
import { resolveWorkspace, storeDir } from '../../store/paths.js';
import { listRuns } from '../../store/runs.js';
import { STORE_OPTION_HELP } from './analyze.js';

interface ExportCliOptions {
  all?: boolean;
  store?: string;
  out: string;
  json?: boolean;
}

async function resolveRunDirs(references: string[], options: ExportCliOptions): Promise<string[]> {
  const workspace = resolveWorkspace({ workspace: options.store });
  if (options.all) return (await listRuns(storeDir(workspace))).map((run) => run.run_dir);
  const index = await openIndex(workspace);
  try {
    await reconcileIndex(index, workspace);
    return references.map((reference) => findRunDir(index, reference));
  } finally {
    index.close();
  }
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write a training bundle (dataset.npz, the runs, README, checksums) of some runs or of all')
    .argument('[runs...]', 'run_ids or run folders')
    .option('--all', 'every run of the store')
    .option('--store <dir>', STORE_OPTION_HELP)
    .requiredOption('--out <dir>', 'the bundle folder: new or empty')
    .option('--json', 'one JSON object on stdout (rows, exported and skipped runs)')
    .action(async (references: string[], options: ExportCliOptions) => {
      if (Boolean(options.all) === references.length > 0) {
        throw new TrendflowError('invalid_argument', 'give run_ids / run folders, or --all (not both)');
      }
      const result = await exportBundle(await resolveRunDirs(references, options), options.out);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      process.stdout.write(`${result.rows} runs exported to ${result.out}\n`);
      for (const skip of result.skipped) process.stdout.write(`skipped ${skip.run_dir}: ${skip.reason}\n`);
    });
}
