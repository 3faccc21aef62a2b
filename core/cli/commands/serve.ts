/**
 * `trendflow serve [--port N] [--workspace DIR] [--store DIR] [--models-dir DIR]`: browser mode (DESIGN.md §2).
 * Serves the built renderer and the workstation API on 127.0.0.1 with a random access token, prints the URL (the
 * only line on stdout) and runs until SIGINT or SIGTERM. See core/api/README.md for what the server allows.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createWorkstationApi, rendererDir, startWorkstationServer } from '../../api/index.js';
import { resolveWorkspace } from '../../store/index.js';

interface ServeOptions {
  port: number;
  workspace?: string;
  store?: string;
  modelsDir?: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('must be a port number 0–65535 (0: any free port)');
  return port;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('browser mode: serve the workstation on 127.0.0.1 with a random access token and print its URL')
    .option('--port <n>', 'port on 127.0.0.1 (default 0: any free port)', parsePort, 0)
    .option('--workspace <dir>', 'workspace holding result_store/, frames/ and settings.json (default: $TRENDFLOW_WORKSPACE, else ./trendflow-data)')
    .option('--store <dir>', 'result_store to show (default: <workspace>/result_store)')
    .option('--models-dir <dir>', 'models folder for the models status (default: the settings, else $TRENDFLOW_MODELS_DIR, else the per-user folder)')
    .action(async (options: ServeOptions) => {
      const workspace = resolveWorkspace(options.workspace === undefined ? {} : { workspace: options.workspace });
      const api = createWorkstationApi({
        workspace,
        mode: 'browser',
        ...(options.store === undefined ? {} : { store: options.store }),
        ...(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir }),
      });
      const server = await startWorkstationServer({ api, rendererDir: rendererDir(), port: options.port }).catch((error: unknown) => {
        api.close();
        throw error;
      });
      process.stdout.write(`${server.url}\n`);
      process.stderr.write(`trendflow: serving the workstation on ${server.origin} (only this machine; the token is in the URL). Ctrl+C stops.\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
      api.close();
    });
}
