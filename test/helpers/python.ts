import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * NumPy interop tests need a python3 that imports numpy. The machine's default python3 may lack it (CI installs
 * Debian's python3-numpy into /usr/bin/python3), so try every python3 on PATH, then /usr/bin/python3.
 */
function candidates(): string[] {
  const fromPath = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, 'python3'));
  return [...new Set([...fromPath, '/usr/bin/python3'])].filter((p) => existsSync(p));
}

let cached: string | null | undefined;

/** The first python3 that imports numpy, or null. */
export function findNumpyPython(): string | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (const candidate of candidates()) {
    try {
      execFileSync(candidate, ['-c', 'import numpy'], { stdio: 'ignore', timeout: 30_000 });
      cached = candidate;
      break;
    } catch {
      // this interpreter has no numpy; try the next
    }
  }
  return cached;
}

/**
 * The numpy python for a test. Outside CI a machine without numpy skips the interop tests (the caller uses
 * `describe.skipIf(!hasNumpy)`); in CI a missing numpy is a failure, never a skip.
 */
export function requireNumpyPython(): string {
  const python = findNumpyPython();
  if (!python) {
    throw new Error('no python3 with numpy found on PATH or at /usr/bin/python3 (install python3-numpy)');
  }
  return python;
}

export const numpyAvailableOrCi = findNumpyPython() !== null || process.env.CI === 'true';

/** Runs a Python snippet with the numpy interpreter and returns its stdout. */
export function runPython(script: string, args: string[] = [], input?: string): string {
  return execFileSync(requireNumpyPython(), ['-c', script, ...args], {
    encoding: 'utf8',
    input,
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
}
