import { spawn } from 'node:child_process';
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sampleManifest } from '../../test/helpers/manifest.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import type { Manifest } from '../contracts/manifest.js';
import { isTrendflowError } from '../contracts/errors.js';
import { INDEX_SCHEMA_VERSION, RunIndex } from './db.js';

const tmp = useTempDirs('index-');
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

function manifest(runId: string, overrides: { status?: Manifest['run']['status']; created_at?: string; key?: string } = {}): Manifest {
  const m = sampleManifest();
  m.run.run_id = runId;
  m.run.status = overrides.status ?? 'ok';
  if (overrides.created_at) m.run.created_at = overrides.created_at;
  Object.assign(m.components[0]!, { cache_key: overrides.key ?? 'a'.repeat(64), metrics: { batch_size: 8, peak_rss_bytes: 1000 } });
  return m;
}

describe('RunIndex', () => {
  it('records a run from its manifest (idempotently) and answers runs, components, artifacts, metrics and cache keys', async () => {
    const dir = await tmp();
    const index = RunIndex.open(path.join(dir, 'index.sqlite'));
    const runDir = path.join(dir, 'r1');
    index.recordManifest(runDir, manifest('run-1', { created_at: '2026-01-01T00:00:00.000Z' }), 'tier0');
    index.recordManifest(runDir, manifest('run-1', { created_at: '2026-01-01T00:00:00.000Z' }), null);
    index.recordManifest(path.join(dir, 'r2'), manifest('run-2', { status: 'error', created_at: '2026-01-02T00:00:00.000Z', key: 'b'.repeat(64) }));
    expect(index.counts()).toEqual({ runs: 2, components: 2, artifacts: 2, metrics: 10 });
    expect(index.listRuns().map((r) => r.run_id)).toEqual(['run-2', 'run-1']);
    expect(index.listRuns({ status: 'ok' }).map((r) => [r.run_id, r.profile])).toEqual([['run-1', 'tier0']]);
    const [row] = index.findRuns('run-1');
    expect(index.findRuns(runDir)).toEqual([row]);
    expect(index.components(row!)).toMatchObject([{ name: 'core_clip', status: 'ok', cache_key: 'a'.repeat(64), cache_hit: 0, duration_ms: 1500 }]);
    expect(index.metrics(row!)).toEqual([
      { component: '', name: 'cache_hit_rate', value: 0 },
      { component: '', name: 'wall_ms', value: 2500 },
      { component: 'core_clip', name: 'batch_size', value: 8 },
      { component: 'core_clip', name: 'duration_ms', value: 1500 },
      { component: 'core_clip', name: 'peak_rss_bytes', value: 1000 },
    ]);
    expect(index.candidates('a'.repeat(64), 'core_clip')).toEqual([{ run_dir: runDir, run_id: 'run-1' }]);
    expect(index.candidates('a'.repeat(64), 'cut_detection')).toEqual([]);
    index.removeRun(row!);
    expect(index.counts()).toEqual({ runs: 1, components: 1, artifacts: 1, metrics: 5 });
    index.close();
  });

  it('uses WAL and refuses an index made by a newer version', async () => {
    const file = path.join(await tmp(), 'index.sqlite');
    RunIndex.open(file).close();
    const raw = new Database(file);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.pragma(`user_version = ${INDEX_SCHEMA_VERSION + 1}`);
    raw.close();
    let error: unknown;
    try {
      RunIndex.open(file);
    } catch (e) {
      error = e;
    }
    expect(isTrendflowError(error) && error.code).toBe('index_failed');
  });

  it('two processes writing the same index at once both succeed', async () => {
    const compiled = path.join(repoRoot, 'dist/core/index/db.js');
    if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(path.join(repoRoot, 'core/index/db.ts')).mtimeMs) {
      throw new Error('dist/ is older than core/index: run `npm run build` first (npm test does)');
    }
    const dir = await tmp();
    const file = path.join(dir, 'index.sqlite');
    const script = path.join(dir, 'writer.mjs');
    const base = manifest('x');
    await fs.writeFile(
      script,
      `import { RunIndex } from ${JSON.stringify(pathToFileURL(compiled).href)};
const [file, who, count] = process.argv.slice(2);
const base = ${JSON.stringify(base)};
const index = RunIndex.open(file);
for (let i = 0; i < Number(count); i++) {
  const m = structuredClone(base);
  m.run.run_id = who + '-' + i;
  index.recordManifest('/runs/' + m.run.run_id, m, 'p');
  // readers run beside the other process's writes
  if (index.findRuns(m.run.run_id).length !== 1) throw new Error('lost ' + m.run.run_id);
  index.listRuns({ limit: 5 });
}
index.close();
`,
    );
    const run = (who: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [script, file, who, '150'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([run('a'), run('b')]);
    expect(results).toEqual([
      { code: 0, stderr: '' },
      { code: 0, stderr: '' },
    ]);
    const index = RunIndex.open(file);
    expect(index.counts()).toMatchObject({ runs: 300, components: 300 });
    index.close();
  });
});
