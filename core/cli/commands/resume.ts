/**
 * `trendflow resume RUN [--store DIR] [--models-dir DIR] [--no-cache] [--json]`: finishes an interrupted,
 * cancelled or failed run with its own config; components already ok or empty are not redone. Same output and
 * exit codes as `analyze`.
 */
import type { Command } from 'commander';
import { findRunDir } from '../../index/lookup.js';
import { openIndex, reconcileIndex } from '../../index/sync.js';
import { resolveModelsDir } from '../../runtime/registry/index.js';
import { resolveWorkspace } from '../../store/paths.js';
import { EXIT_CANCELLED, printOutcome, ProgressPrinter, STORE_OPTION_HELP } from './analyze.js';

interface ResumeCliOptions {
  store?: string;
  modelsDir?: string;
  cache: boolean;
  json?: boolean;
}

export function registerResumeCommand(program: Command): void {
  program
    .command('resume')
    .description('finish an interrupted, cancelled or failed run without redoing its finished components')
    .argument('<run>', 'a run_id or a run folder')
    .option('--store <dir>', STORE_OPTION_HELP)
    .option('--models-dir <dir>', 'models folder (default: $TRENDFLOW_MODELS_DIR, else the per-user data folder + trendflow/models)')
    .option('--no-cache', 'compute the remaining components even when an identical earlier result exists')
    .option('--json', 'one JSON object on stdout')
    .action(async (reference: string, options: ResumeCliOptions, command: Command) => {
      const workspace = resolveWorkspace({ workspace: options.store });
      const modelsDir = resolveModelsDir(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir });
      const index = await openIndex(workspace);
      const controller = new AbortController();
      const onSignal = (): void => controller.abort(new Error('cancelled by a signal'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress = new ProgressPrinter(process.stderr);
      try {
        await reconcileIndex(index, workspace);
        const runDir = findRunDir(index, reference);
        // the pipeline (every component) is loaded only when a run is resumed, not whenever the CLI starts
        const { resumeRun } = await import('../../pipeline/orchestrator.js');
        // an explicit --no-cache wins; otherwise the run keeps the choice it was started with
        const noCache = command.getOptionValueSource('cache') === 'cli' ? !options.cache : undefined;
        const outcome = await resumeRun(runDir, {
          workspace,
          modelsDir,
          index,
          signal: controller.signal,
          onEvent: (event) => progress.event(event),
          ...(noCache === undefined ? {} : { noCache }),
        });
        progress.clear();
        printOutcome(outcome, options.json === true);
        process.exitCode = controller.signal.aborted ? EXIT_CANCELLED : outcome.status === 'ok' ? 0 : 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        index.close();
      }
    });
}
