/** Runs the `trendflow` CLI in this process (core/cli/main.ts) and captures what it writes. */
import { vi } from 'vitest';
import { main } from '../../core/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCliInProcess(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    // a command may set it for the real CLI's exit; it must not leak into the test runner
    process.exitCode = undefined;
    vi.restoreAllMocks();
  }
}
