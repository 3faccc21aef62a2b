/** `trendflow index rebuild [--store DIR] [--json]`: recreates the run index from result_store (core/index). */
import type { Command } from 'commander';
import { indexPath, openIndex, rebuildIndex } from '../../index/sync.js';
import { resolveWorkspace } from '../../store/paths.js';
import { STORE_OPTION_HELP } from './analyze.js';

export function registerIndexCommand(program: Command): void {
  const index = program.command('index').description('the SQLite run index of a workspace');
  index
    .command('rebuild')
    .description('recreate the index from the manifests in result_store (the source of truth)')
    .option('--store <dir>', STORE_OPTION_HELP)
    .option('--json', 'one JSON object on stdout')
    .action(async (options: { store?: string; json?: boolean }) => {
      const workspace = resolveWorkspace({ workspace: options.store });
      const db = await openIndex(workspace);
      try {
        const report = await rebuildIndex(db, workspace);
        const counts = db.counts();
        if (options.json) process.stdout.write(`${JSON.stringify({ index: indexPath(workspace), ...report, counts })}\n`);
        else {
          process.stdout.write(`indexed ${report.runs} run(s) into ${indexPath(workspace)}: ${counts.components} components, ${counts.artifacts} artifacts, ${counts.metrics} metrics\n`);
          for (const skipped of report.skipped) process.stderr.write(`trendflow: warning: not indexed: ${skipped.run_dir}: ${skipped.problem}\n`);
        }
      } finally {
        db.close();
      }
    });
}
