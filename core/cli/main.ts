import { Command, CommanderError } from 'commander';
import { isTrendflowError } from '../contracts/errors.js';
import { DATAPROCESSOR_VERSION } from '../contracts/version.js';
import { registerAnalyzeCommand } from './commands/analyze.js';
import { registerBenchCommand } from './commands/bench.js';
import { registerEnqueueCommand } from './commands/enqueue.js';
import { registerExportCommand } from './commands/export.js';
import { registerGcCommand } from './commands/gc.js';
import { registerIndexCommand } from './commands/index.js';
import { registerModelsCommand } from './commands/models.js';
import { registerNpzCommand } from './commands/npz.js';
import { registerQueueCommand } from './commands/queue.js';
import { registerResumeCommand } from './commands/resume.js';
import { registerRunsCommand } from './commands/runs.js';
import { registerSegmentCommand } from './commands/segment.js';
import { registerServeCommand } from './commands/serve.js';
import { registerShowCommand } from './commands/show.js';
import { registerTrainCommand } from './commands/train.js';
import { registerTritonCommand } from './commands/triton.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerWorkerCommand } from './commands/worker.js';

/** Builds the `trendflow` program. Each command lives in its own file under commands/. */
export function buildProgram(): Command {
  const program = new Command('trendflow')
    .description('TrendFlow Workstation: video-analysis pipeline, artifacts and tools')
    .version(DATAPROCESSOR_VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerAnalyzeCommand(program);
  registerRunsCommand(program);
  registerShowCommand(program);
  registerResumeCommand(program);
  registerGcCommand(program);
  registerIndexCommand(program);
  registerNpzCommand(program);
  registerModelsCommand(program);
  registerValidateCommand(program);
  registerSegmentCommand(program);
  registerTritonCommand(program);
  registerBenchCommand(program);
  registerServeCommand(program);
  registerExportCommand(program);
  registerTrainCommand(program);
  registerEnqueueCommand(program);
  registerWorkerCommand(program);
  registerQueueCommand(program);
  return program;
}

/**
 * Runs the CLI and returns the exit code: 0 success, 1 a failure of the input (one clear line on stderr naming
 * the input and the error code), 2 a usage error.
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit with 0; usage errors have already been printed by commander
      return error.exitCode === 0 ? 0 : 2;
    }
    if (isTrendflowError(error)) {
      process.stderr.write(`trendflow: ${error.toLine()}\n`);
      return 1;
    }
    process.stderr.write(`trendflow: internal_error: ${error instanceof Error ? error.stack : String(error)}\n`);
    return 1;
  }
}
