/**
 * `npm start` (DESIGN.md §2): the Electron app where its binary exists, else one line saying why and browser mode
 * (`trendflow serve`, which prints the URL). Runs under plain Node; arguments are passed on (`--workspace=DIR`
 * for Electron; `--port`, `--workspace`, `--store` for serve).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Electron executable, found the way `require('electron')` finds it but without its side effect: that call
 * downloads the binary from GitHub when it is missing, which hangs or fails on an offline machine.
 */
export function electronBinary(): { path: string } | { missing: string } {
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is not installed (npm install)' };
  }
  const pathFile = path.join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return { missing: `the Electron binary has not been downloaded (no ${path.relative(process.cwd(), pathFile)}; it comes from GitHub on first use)` };
  const relative = readFileSync(pathFile, 'utf8').trim();
  const binary = process.env.ELECTRON_OVERRIDE_DIST_PATH ? path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, relative) : path.join(packageDir, 'dist', relative);
  return existsSync(binary) ? { path: binary } : { missing: `the Electron binary ${binary} is missing` };
}

/** Linux without an X11 or Wayland display cannot show a window. */
function noDisplay(): boolean {
  return process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
}

async function launch(args: string[]): Promise<number> {
  const electron = electronBinary();
  if ('missing' in electron || noDisplay()) {
    const why = 'missing' in electron ? electron.missing : 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)';
    process.stderr.write(`trendflow: cannot start the desktop app: ${why}; starting browser mode instead\n`);
    // the compiled CLI, loaded at run time: a static import would make tsconfig.main.json compile all of core/ again
    const cli = (await import(new URL('../core/cli/main.js', import.meta.url).href)) as { main(argv: string[]): Promise<number> };
    return cli.main(['serve', ...args]);
  }
  const mainFile = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(electron.path, [mainFile, ...args], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (error) => {
      process.stderr.write(`trendflow: cannot run ${electron.path}: ${error.message}\n`);
      resolve(1);
    });
  });
}

process.exitCode = await launch(process.argv.slice(2));
