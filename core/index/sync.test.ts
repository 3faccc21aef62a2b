import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleIdentity } from '../../test/helpers/manifest.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { RUN_LOCK_FILE } from '../store/lock.js';
import { ManifestWriter, readManifest } from '../store/manifest.js';
import { runDir, storeDir } from '../store/paths.js';
import { openIndex, rebuildIndex, reconcileIndex } from './sync.js';

const tmp = useTempDirs('index-sync-');

async function run(workspace: string, runId: string, keepOpen = false): Promise<{ dir: string; writer: ManifestWriter | null }> {
  const identity = sampleIdentity({ run_id: runId });
  const dir = runDir(storeDir(workspace), identity);
  const writer = await ManifestWriter.create(dir, { identity });
  if (keepOpen) return { dir, writer };
  await writer.close();
  return { dir, writer: null };
}

describe('the index and result_store', () => {
  it('a new index is filled from result_store; reconciling adds runs it missed, drops deleted ones, marks dead writers’ runs interrupted', async () => {
    const ws = await tmp();
    const early = await run(ws, 'run-early');
    const index = await openIndex(ws);
    expect(index.listRuns().map((r) => r.run_id)).toEqual(['run-early']);

    // a writer killed before it reached the index: its manifest says running, its lock names a dead process
    const killed = await run(ws, 'run-killed');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    await fs.writeFile(path.join(killed.dir, RUN_LOCK_FILE), `${dead}\n${os.hostname()}\nfeedfacecafebeef\n`);
    // a live writer (this process): really running
    const live = await run(ws, 'run-live', true);
    await fs.rm(early.dir, { recursive: true });

    expect(await reconcileIndex(index, ws)).toBe(1);
    expect(index.listRuns().map((r) => [r.run_id, r.status]).sort()).toEqual([
      ['run-killed', 'interrupted'],
      ['run-live', 'running'],
    ]);
    expect((await readManifest(killed.dir)).run.status).toBe('interrupted');
    expect((await readManifest(live.dir)).run.status).toBe('running');
    await live.writer!.close();

    // a rebuild gives the same answer
    const before = index.listRuns();
    expect(await rebuildIndex(index, ws)).toEqual({ runs: 2, skipped: [] });
    expect(index.listRuns()).toEqual(before);
    index.close();
  });

  it('rebuild reports run folders whose manifest is unreadable instead of indexing them', async () => {
    const ws = await tmp();
    const broken = await run(ws, 'run-broken');
    await fs.writeFile(path.join(broken.dir, 'manifest.json'), '{');
    const index = await openIndex(ws);
    const report = await rebuildIndex(index, ws);
    expect(report.runs).toBe(0);
    expect(report.skipped).toEqual([{ run_dir: broken.dir, problem: expect.stringMatching(/manifest_invalid: manifest is not valid JSON/) }]);
    index.close();
  });
});
