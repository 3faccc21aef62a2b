/**
 * End to end through the built CLI (`npm test` builds dist/ first): generated videos → `trendflow analyze` with the
 * default profile (tier0, pointed at a test models dir: the generated CLIP and CLAP contract models plus the real
 * small models of ../shared/models) → every artifact validates and loads in NumPy, the manifest records each
 * component, the index answers `runs`/`show`; then the cache, kill -9 and `resume`, two analyses at once, bad
 * inputs and their exit codes, `gc` and `index rebuild`.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../core/cli/main.js';
import type { Manifest } from '../../core/contracts/manifest.js';
import { PROFILE_FORMAT } from '../../core/pipeline/profile.js';
import { addModel, loadRegistry } from '../../core/runtime/registry/index.js';
import { validateRunDir } from '../../core/schema/index.js';
import { hashFile } from '../../core/store/hash.js';
import { fileVideoId } from '../../core/store/identity.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../helpers/clip-models.js';
import { makeClapAudioModel } from '../helpers/onnx-models.js';
import { numpyAvailableOrCi, runPython } from '../helpers/python.js';
import { SHARED_MODELS_DIR } from '../helpers/shared-models.js';
import { useTempDirs } from '../helpers/tmp.js';
import { VideoFixtures } from '../helpers/video-fixtures.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const tmp = useTempDirs('e2e-');
const TEST_CLAP_ID = 'test-clap-audio';
let fixtures: VideoFixtures;
let video: string;
let modelsDir: string;
let profileFile: string;
let workspace: string;

const env = { ...process.env, TRENDFLOW_WORKSPACE: '', TRENDFLOW_MODELS_DIR: '' };

function cli(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['bin/trendflow.js', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000, env });
}

function cliAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/trendflow.js', ...args], { cwd: repoRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * A read-only command (`runs`, `show`, `gc`, `index`) run in this process: the same program as the binary, without
 * a process start per call (analyze and resume, which own signals and exit codes, always run as processes).
 */
async function inProcess(...args: string[]): Promise<{ stdout: string }> {
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await buildProgram().parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return { stdout };
}

function json<T = Record<string, any>>(result: SpawnSyncReturns<string> | { stdout: string }): T {
  return JSON.parse(result.stdout) as T;
}

/** `--store` and `--models-dir` for this test's workspace. */
const where = () => ['--store', workspace, '--models-dir', modelsDir];

beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, 'dist/core/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  fixtures = await VideoFixtures.create();
  video = await fixtures.tone128x72();
  const work = await tmp();
  workspace = path.join(work, 'workspace');
  ({ modelsDir } = await prepareClipModelsDir(work));
  const clap = path.join(work, 'clap.onnx');
  await fs.writeFile(clap, makeClapAudioModel());
  await addModel(await loadRegistry({ modelsDir }), modelsDir, clap, { id: TEST_CLAP_ID, license: 'MIT', task: 'audio_embedding' });
  // the real small models, linked file by file (digest stamps are written beside the links, not into shared/)
  for (const id of ['yunet-2023mar', 'mediapipe-facemesh-468', 'blazeface-front-128', 'ultraface-rfb-320', 'yolox-nano']) {
    await fs.mkdir(path.join(modelsDir, id), { recursive: true });
    for (const name of (await fs.readdir(path.join(SHARED_MODELS_DIR, id))).filter((n) => !n.startsWith('.'))) {
      await fs.symlink(path.join(SHARED_MODELS_DIR, id, name), path.join(modelsDir, id, name));
    }
  }
  // the default profile, pointed at the test models: what a user does by copying profiles/tier0.json
  profileFile = path.join(work, 'tier0-test-models.json');
  await fs.writeFile(
    profileFile,
    JSON.stringify({
      format: PROFILE_FORMAT,
      name: 'tier0-test-models',
      description: 'tier0 with the generated CLIP and CLAP contract models',
      extends: 'tier0',
      components: {
        core_clip: { params: { image_model: TEST_CLIP_IMAGE_ID, text_model: TEST_CLIP_TEXT_ID } },
        clap_extractor: { params: { model: TEST_CLAP_ID, batch_size: 4 } },
      },
    }),
  );
});

afterAll(async () => {
  await fixtures?.cleanup();
});

describe('trendflow analyze (default profile)', () => {
  let first: Record<string, any>;
  let manifest: Manifest;

  beforeAll(() => {
    const result = cli('analyze', video, '--profile', profileFile, ...where(), '--json');
    expect(result.stderr).not.toMatch(/internal_error/);
    expect(result.status, result.stderr).toBe(0);
    first = json(result);
  });

  it('prints one JSON object with run_id, run_dir, status and every component’s status', async () => {
    expect(first).toMatchObject({ video, status: 'ok', error: null, profile: 'tier0-test-models', platform_id: 'local' });
    expect(path.isAbsolute(first.run_dir)).toBe(true);
    expect(first.components.core_clip).toMatchObject({ status: 'ok', required: true, cache_hit: false });
    for (const [name, c] of Object.entries<any>(first.components)) {
      if (c.required) expect([name, c.status]).toEqual([name, expect.stringMatching(/^(ok|empty)$/)]);
    }
    manifest = JSON.parse(await fs.readFile(path.join(first.run_dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.components.map((c) => c.name).sort()).toEqual(Object.keys(first.components).sort());
  });

  it('records each component in the manifest with status, timings, models and sha256', async () => {
    for (const c of manifest.components) {
      expect(Date.parse(c.finished_at) - Date.parse(c.started_at)).toBe(c.duration_ms);
      if (c.status === 'error') continue;
      for (const artifact of c.artifacts) expect((await hashFile(path.join(first.run_dir, artifact.path))).sha256).toBe(artifact.sha256);
    }
    const clip = manifest.components.find((c) => c.name === 'core_clip')!;
    expect(clip.models_used.map((m) => m.model_name)).toEqual(['test-clip-image', 'test-clip-text', 'openai/CLIP']);
    expect(clip.model_signature).toMatch(/^msig1:/);
  });

  it('leaves a run folder that `trendflow validate` passes', () => {
    const result = cli('validate', first.run_dir);
    expect(result.stdout + result.stderr).toMatch(/OK/);
    expect(result.status).toBe(0);
  });

  it.skipIf(!numpyAvailableOrCi)('writes artifacts that NumPy loads', () => {
    const files = manifest.components.flatMap((c) => c.artifacts.filter((a) => a.path.endsWith('.npz')).map((a) => path.join(first.run_dir, a.path)));
    expect(files.length).toBeGreaterThan(0);
    const out = runPython('import sys, numpy as np\nfor f in sys.argv[1:]:\n    print(np.load(f, allow_pickle=True)["meta"].item()["run_id"])', files);
    expect(out.trim().split('\n')).toEqual(files.map(() => first.run_id));
  });

  it('`runs` and `show` answer from the index', async () => {
    const runs = json<any[]>(cli('runs', '--store', workspace, '--json'));
    expect(runs.find((r) => r.run_id === first.run_id)).toMatchObject({ run_dir: first.run_dir, status: 'ok', profile: 'tier0-test-models' });
    const shown = json(await inProcess('show', first.run_id, '--store', workspace, '--json'));
    expect(shown.run_dir).toBe(first.run_dir);
    expect(shown.manifest).toEqual(manifest);
    expect(shown.metrics.core_clip).toMatchObject({ batch_size: expect.any(Number), duration_ms: expect.any(Number) });
    const human = await inProcess('show', first.run_dir, '--store', workspace);
    expect(human.stdout).toContain(`run ${first.run_id}: ok`);
    expect(human.stdout).toMatch(/core_clip: ok\n/);
  });

  it('a second identical analysis reuses every component from the first', async () => {
    const result = cli('analyze', video, '--profile', profileFile, ...where(), '--json');
    expect(result.status, result.stderr).toBe(0);
    const second = json(result);
    const computed = Object.values<any>(first.components).filter((c) => c.status !== 'error');
    expect(computed.length).toBeGreaterThan(0);
    for (const [name, c] of Object.entries<any>(second.components)) {
      if (first.components[name].status !== 'error') expect([name, c.cache_hit]).toEqual([name, true]);
    }
    const wall = async (runDir: string) => {
      const { run } = JSON.parse(await fs.readFile(path.join(runDir, 'manifest.json'), 'utf8')) as Manifest;
      return Date.parse(run.updated_at) - Date.parse(run.created_at);
    };
    // a report, not a timed assertion (speed is measured by the benchmarks)
    console.log(`first run ${await wall(first.run_dir)} ms, identical second run ${await wall(second.run_dir)} ms (cache hits)`);
  });
});

describe('crash safety', () => {
  it('kill -9 mid-run: `runs` shows it interrupted, `resume` completes it, nothing torn', async () => {
    const long = await fixtures.longTestsrc();
    const runId = 'e2e-killed';
    const runDir = path.join(workspace, 'result_store', 'local', fileVideoId((await hashFile(long)).sha256), runId);
    const child = spawn(process.execPath, ['bin/trendflow.js', 'analyze', long, '--profile', profileFile, '--components', 'core_clip,loudness_extractor', ...where(), '--run-id', runId], { cwd: repoRoot, env, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 30_000;
    while (!existsSync(path.join(runDir, 'manifest.json'))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the analysis never started');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(JSON.parse(await fs.readFile(path.join(runDir, 'manifest.json'), 'utf8')).run.status).toBe('running');

    const runs = json<any[]>(cli('runs', '--store', workspace, '--json', '--status', 'interrupted'));
    expect(runs.map((r) => r.run_id)).toEqual([runId]);

    const resumed = cli('resume', runId, ...where(), '--json');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(json(resumed)).toMatchObject({ run_id: runId, status: 'ok', components: { core_clip: { status: 'ok' }, loudness_extractor: { status: expect.stringMatching(/^(ok|empty)$/) } } });
    expect((await validateRunDir(runDir)).problems).toEqual([]);
  });
});

describe('concurrency', () => {
  it('two analyses of the same video at once both succeed', async () => {
    const args = ['analyze', video, '--profile', profileFile, '--components', 'core_clip', ...where(), '--no-cache', '--json'];
    const [a, b] = await Promise.all([cliAsync(...args), cliAsync(...args)]);
    expect([a.status, b.status], a.stderr + b.stderr).toEqual([0, 0]);
    const [ra, rb] = [json(a), json(b)];
    expect(ra.run_id).not.toBe(rb.run_id);
    const runs = json<any[]>(await inProcess('runs', '--store', workspace, '--json')).map((r) => r.run_id);
    expect(runs).toEqual(expect.arrayContaining([ra.run_id, rb.run_id]));
  });
});

describe('bad inputs and usage', () => {
  it('bad videos: exit 1, one line per video naming it and the code, a run with status error where the file exists', async () => {
    const bad: [string, string, boolean][] = [
      [await fixtures.empty(), 'video_empty_file', true],
      [await fixtures.textFile('notes.mp4'), 'video_unreadable', true],
      [path.join(workspace, 'missing.mp4'), 'video_not_found', false],
    ];
    const result = cli('analyze', ...bad.map(([file]) => file), '--profile', profileFile, ...where(), '--json');
    expect(result.status).toBe(1);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    for (const [file, code, hasRun] of bad) {
      const line = result.stderr.split('\n').find((l) => l.startsWith(`trendflow: ${file}: ${code}: `));
      // named once: the message itself does not repeat the path
      expect(line?.split(file).length, result.stderr).toBe(2);
      const out = lines.find((l) => l.video === file)!;
      expect(out).toMatchObject({ status: 'error', error: { error_code: code } });
      if (hasRun) expect(JSON.parse(await fs.readFile(path.join(out.run_dir, 'manifest.json'), 'utf8')).run).toMatchObject({ status: 'error', error: { error_code: code } });
      else expect(out.run_dir).toBeNull();
    }
  });

  it('usage errors exit 2; a profile that does not exist is an input error (exit 1)', () => {
    expect(cli('analyze', video, video, '--run-id', 'x', ...where()).status).toBe(2);
    const result = cli('analyze', video, '--profile', 'tier9', ...where());
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/invalid_argument: no profile "tier9"/);
  });
});

describe('gc and index rebuild', () => {
  it('`gc --dry-run` lists exactly what `gc` removes; the index stays consistent with result_store', async () => {
    const dry = json(await inProcess('gc', '--dry-run', '--keep-earlier', '0', '--store', workspace, '--json'));
    expect(dry.remove.length).toBeGreaterThan(0);
    const done = json(cli('gc', '--keep-earlier', '0', '--store', workspace, '--json'));
    expect(done.skipped).toEqual([]);
    expect(done.removed).toEqual(dry.remove);
    for (const item of done.removed) expect(existsSync(item.path)).toBe(false);
    const before = json<any[]>(await inProcess('runs', '--store', workspace, '--json'));
    for (const run of before) expect(existsSync(run.run_dir)).toBe(true);
    const rebuilt = json(await inProcess('index', 'rebuild', '--store', workspace, '--json'));
    expect(rebuilt.runs).toBe(before.length);
    expect(json<any[]>(await inProcess('runs', '--store', workspace, '--json'))).toEqual(before);
    // runs that reused artifacts of removed runs still validate: hard links keep the data
    for (const run of before.filter((r) => r.status === 'ok')) expect((await validateRunDir(run.run_dir)).problems).toEqual([]);
  });
});
