import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };

function trendflow(...args: string[]) {
  return spawnSync(process.execPath, ['bin/trendflow.js', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
}

describe('trendflow CLI entry', () => {
  it('runs as `npx trendflow` and lists its commands', () => {
    // npx resolves the project's own `bin`, exactly as a user types it
    const result = spawnSync('npx', ['--no-install', 'trendflow', '--help'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: trendflow');
    for (const command of ['npz', 'validate']) expect(result.stdout).toContain(command);
  });

  it('prints the package version', () => {
    const result = trendflow('--version');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('exits 2 on a usage error', () => {
    const result = trendflow('no-such-command');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'no-such-command'");
  });
});
