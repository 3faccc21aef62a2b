/**
 * The read-side commands in process (the built binary is driven end to end by test/e2e/analyze.test.ts): `runs`,
 * `show`, `gc --dry-run` and `index rebuild` over a workspace holding a sample run, and the analysis progress lines.
 */
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeSampleRun } from '../../../test/helpers/run-fixture.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { readManifest } from '../../store/manifest.js';
import { storeDir } from '../../store/paths.js';
import { ProgressPrinter } from './analyze.js';
import { registerGcCommand } from './gc.js';
import { registerIndexCommand } from './index.js';
import { registerRunsCommand } from './runs.js';
import { registerShowCommand } from './show.js';

const tmp = useTempDirs('cli-runs-');
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  for (const register of [registerRunsCommand, registerShowCommand, registerGcCommand, registerIndexCommand]) register(program);
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  await program.parseAsync(args, { from: 'user' });
  vi.restoreAllMocks();
  return out;
}

describe('runs, show, gc, index', () => {
  it('list, show and index a workspace’s runs', async () => {
    const workspace = await tmp();
    expect(await run('runs', '--store', workspace)).toBe('no runs\n');
    const runDir = await writeSampleRun(storeDir(workspace));
    const runId = path.basename(runDir);
    const created = (await readManifest(runDir)).run.created_at;

    // the index was made before the run: `runs` finds it anyway (reconciliation with result_store)
    expect(await run('runs', '--store', workspace)).toBe(`${runId}  ok          local/file-0123456789abcdef  -  ${created}  2 ok, 1 empty\n    ${runDir}\n`);
    expect(JSON.parse(await run('runs', '--store', workspace, '--json', '--status', 'ok'))).toMatchObject([
      { run_id: runId, run_dir: runDir, components: { core_clip: 'ok', core_face_landmarks: 'empty', loudness_extractor: 'ok' } },
    ]);
    expect(await run('runs', '--store', workspace, '--status', 'error')).toBe('no runs\n');

    const shown = await run('show', runId, '--store', workspace);
    expect(shown).toContain(`run ${runId}: ok\n  folder    ${runDir}\n`);
    expect(shown).toMatch(/ {2}core_face_landmarks: empty \(no_faces_in_video\)\n {4}1\.50 s from 2026-01-01T00:00:01\.000Z on cpu\n/);
    expect(shown).toMatch(/core_clip\/embeddings\.npz {2}\d+ bytes {2}sha256 [0-9a-f]{64}/);

    expect(await run('gc', '--dry-run', '--max-age-days', '100000', '--store', workspace)).toBe('0 item(s) would be removed\n');
    expect(await run('gc', '--dry-run', '--max-age-days', '0', '--store', workspace)).toBe(
      `would remove run     ${runDir}  (created ${created}, more than 0 days ago (hard cap))\n1 item(s) would be removed\n`,
    );
    expect(await run('index', 'rebuild', '--store', workspace)).toBe(`indexed 1 run(s) into ${path.join(workspace, 'index.sqlite')}: 3 components, 3 artifacts, 5 metrics\n`);
  });
});

describe('ProgressPrinter', () => {
  it('writes one line per finished step when stderr is not a terminal', () => {
    let text = '';
    const out = { isTTY: false, write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WriteStream;
    const printer = new ProgressPrinter(out);
    const run_id = '20260101T000000Z-0a1b2c3d';
    printer.event({ type: 'run_started', run_id, run_dir: '/r', video: '/v.mp4', components: ['core_clip'], resumed: false });
    printer.event({ type: 'component_progress', run_id, component: 'core_clip', done: 8, total: 16, unit: 'frames', eta_ms: 1200 });
    printer.event({ type: 'segmenter_finished', run_id, frames: 16, duration_ms: 1500, reused: false });
    printer.event({ type: 'component_finished', run_id, component: 'core_clip', status: 'ok', cache_hit: false, duration_ms: 2300, error: null, finished: 1, total: 1 });
    printer.event({ type: 'run_finished', run_id, status: 'ok', error: null });
    expect(text).toBe(
      '[0a1b2c3d] analysing /v.mp4: core_clip\n[0a1b2c3d] frames_dir ready: 16 frames in 1.5 s\n[0a1b2c3d] (1/1) core_clip: ok, 2.3 s\n[0a1b2c3d] run ok\n',
    );
  });

  it('redraws one line with a bar and the ETA on a terminal', () => {
    let text = '';
    const out = { isTTY: true, columns: 80, write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WriteStream;
    new ProgressPrinter(out).event({ type: 'component_progress', run_id: 'x-12345678', component: 'core_clip', done: 5, total: 10, unit: 'frames', eta_ms: 1200 });
    expect(text).toBe('\r\x1b[K[12345678] core_clip [##########..........] 5/10 frames, ETA 2 s');
  });
});
