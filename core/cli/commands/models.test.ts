/**
 * `trendflow models`: the progress display in-process, and list/fetch/verify/add end to end through the built CLI
 * (`node bin/trendflow.js`, `npm test` builds first) against a local HTTP server on 127.0.0.1 started here.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedModel } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import type { FetchProgress } from '../../runtime/registry/index.js';
import { startModelServer, testModelSpec, writeTestRegistry, type ModelServer } from '../../../test/helpers/model-host.js';
import { DownloadProgress, formatBytes, formatDuration, progressLine } from './models-progress.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const tmp = useTempDirs('models-cli-');
const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI without blocking this process (the test's HTTP server must keep answering). */
function trendflow(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.TRENDFLOW_MODELS_DIR;
    const child = spawn(process.execPath, ['bin/trendflow.js', ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('download progress', () => {
  function event(overrides: Partial<FetchProgress>): FetchProgress {
    return { id: 'clip', file: 'vision.onnx', url: 'http://127.0.0.1/v', phase: 'download', received: 0, total: 1000, resumedFrom: 0, attempt: 0, ...overrides };
  }

  it('formats sizes, durations and the bar', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(351685709)).toBe('335 MB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatDuration(3)).toBe('3s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(Infinity)).toBe('--');
    expect(progressLine('m/f', 250, 1000, 100, 8)).toBe('m/f [##......]  25%  250 B / 1000 B  100 B/s  ETA 8s');
    expect(progressLine('m/f', 250, null, 0)).toBe('m/f 250 B  -- B/s');
  });

  it('redraws one bar line with bytes, %, rate and ETA on a terminal', () => {
    let out = '';
    let now = 0;
    const progress = new DownloadProgress({ isTTY: true, columns: 200, write: (text: string) => (out += text) }, () => now);
    progress.onProgress(event({ phase: 'start', received: 0 }));
    now = 1000;
    progress.onProgress(event({ received: 500 }));
    now = 1050; // throttled
    progress.onProgress(event({ received: 600 }));
    now = 2000;
    progress.onProgress(event({ received: 1000 }));
    progress.onProgress(event({ phase: 'done', received: 1000 }));
    const frames = out.split('\r').filter(Boolean);
    expect(frames).toHaveLength(3);
    expect(frames[1]).toContain('clip/vision.onnx [############............]  50%  500 B / 1000 B  500 B/s  ETA 1s');
    expect(frames[2]).toMatch(/100% {2}1000 B \/ 1000 B {2}500 B\/s {2}ETA 0s\x1b\[K\n$/);
  });

  it('writes plain lines when stderr is not a terminal', () => {
    let out = '';
    const progress = new DownloadProgress({ isTTY: false, write: (text: string) => (out += text) }, () => 0);
    progress.onProgress(event({ phase: 'start', received: 300, resumedFrom: 300 }));
    for (const received of [400, 600, 800, 1000]) progress.onProgress(event({ received }));
    progress.onProgress(event({ phase: 'retry', attempt: 1, message: 'connection lost' }));
    progress.onProgress(event({ phase: 'done', received: 1000 }));
    expect(out).toBe(
      'downloading clip/vision.onnx from http://127.0.0.1/v, 1000 B (resuming at 300 B)\n' +
        'clip/vision.onnx: 25% (400 B of 1000 B)\n' +
        'clip/vision.onnx: 50% (600 B of 1000 B)\n' +
        'clip/vision.onnx: 75% (800 B of 1000 B)\n' +
        'clip/vision.onnx: retry 1: connection lost\n',
    );
    expect(out).not.toContain('\r');
  });
});

// each run starts a node process; on a loaded two-core CI machine a dozen of them take a while
describe('trendflow models (built CLI)', { timeout: 180_000 }, () => {
  const GOOD = randomBytes(200_000);
  const OTHER = randomBytes(1000);
  let server: ModelServer;
  let dir: string;
  let registryFile: string;

  beforeAll(async () => {
    server = await startModelServer({ '/good.onnx': GOOD, '/other.onnx': OTHER });
    dir = await tmp();
    registryFile = await writeTestRegistry(path.join(dir, 'registry.json'), {
      good: testModelSpec([{ name: 'good.onnx', url: server.url('/good.onnx'), sha256: sha(GOOD), bytes: GOOD.length }], { license: 'Apache-2.0' }),
      unpinned: testModelSpec([{ name: 'u.onnx', url: server.url('/good.onnx'), sha256: null, bytes: null }]),
      wrong: testModelSpec([{ name: 'w.onnx', url: server.url('/other.onnx'), sha256: sha(GOOD), bytes: null }]),
      gone: testModelSpec([{ name: 'g.onnx', url: server.url('/gone.onnx'), sha256: sha(GOOD), bytes: GOOD.length }]),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('lists the built-in registry', async () => {
    const modelsDir = path.join(await tmp(), 'models');
    const json = await trendflow('models', 'list', '--json', '--models-dir', modelsDir);
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    const parsed = JSON.parse(json.stdout) as { models_dir: string; models: { id: string; installed: string; files: { present: boolean }[] }[] };
    expect(parsed.models_dir).toBe(modelsDir);
    expect(parsed.models.map((m) => m.id)).toEqual(expect.arrayContaining(['clip-vit-b32-image', 'clip-vit-b32-text', 'clip-bpe-vocab', 'yolox-nano']));
    expect(parsed.models.every((m) => m.installed === 'missing')).toBe(true);

    const human = await trendflow('models', 'list', '--models-dir', modelsDir);
    expect(human.status).toBe(0);
    expect(human.stdout).toContain(`models dir: ${modelsDir}`);
    expect(human.stdout).toMatch(/clip-vit-b32-image\s+image_embedding\s+onnx\s+335 MB\s+MIT\s+registry\s+missing\s+Xenova\/clip-vit-base-patch32@d15189d7028b/);
  });

  it('fetches, refuses, records and verifies through a local server', async () => {
    const modelsDir = path.join(await tmp(), 'models');
    const common = ['--registry', registryFile, '--models-dir', modelsDir];

    const fetched = await trendflow('models', 'fetch', 'good', ...common);
    expect(fetched.status).toBe(0);
    expect(fetched.stdout).toBe(`OK good/good.onnx: downloaded, ${formatBytes(GOOD.length)}, sha256 ${sha(GOOD)}\n`);
    // not a terminal: plain progress lines
    expect(fetched.stderr).toContain(`downloading good/good.onnx from ${server.url('/good.onnx')}, ${formatBytes(GOOD.length)}\n`);
    expect(fetched.stderr).not.toContain('\r');
    expect(sha(await fs.readFile(path.join(modelsDir, 'good', 'good.onnx')))).toBe(sha(GOOD));

    const again = await trendflow('models', 'fetch', 'good', ...common);
    expect(again.stdout).toContain('OK good/good.onnx: already present');

    const unpinned = await trendflow('models', 'fetch', 'unpinned', ...common);
    expect(unpinned.status).toBe(1);
    expect(unpinned.stderr).toBe(
      `trendflow: unpinned: model_unpinned: model unpinned has no pinned sha256 for u.onnx: run \`npx trendflow models fetch unpinned --allow-unpinned --models-dir ${modelsDir}\` to download it anyway and record the digest it has\n`,
    );
    const allowed = await trendflow('models', 'fetch', 'unpinned', '--allow-unpinned', ...common);
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toContain(`OK unpinned/u.onnx: downloaded, ${formatBytes(GOOD.length)}, sha256 ${sha(GOOD)}, pinned by models.lock.json`);
    expect(existsSync(path.join(modelsDir, 'models.lock.json'))).toBe(true);

    const wrong = await trendflow('models', 'fetch', 'wrong', 'gone', ...common);
    expect(wrong.status).toBe(1);
    const lines = wrong.stderr.split('\n').filter((line) => line.startsWith('trendflow: '));
    expect(lines[0]).toMatch(/^trendflow: wrong: model_digest_mismatch: http:\/\/127\.0\.0\.1:\d+\/other\.onnx gave 1000 bytes with sha256 [0-9a-f]{64}, the registry expects/);
    expect(lines[1]).toBe(`trendflow: gone: model_download_failed: GET ${server.url('/gone.onnx')} failed: HTTP 404 Not Found`);

    const verified = await trendflow('models', 'verify', ...common);
    expect(verified.stderr).toBe('');
    expect(verified.status).toBe(0);
    expect(verified.stdout).toBe(`OK good/good.onnx: sha256 ${sha(GOOD)}\nOK unpinned/u.onnx: sha256 ${sha(GOOD)}\n`);

    // a changed file is found, named, and exits 1
    const changedPath = path.join(modelsDir, 'unpinned', 'u.onnx');
    const changed = Buffer.from(GOOD);
    changed[7] = changed[7]! ^ 0xff;
    await fs.writeFile(changedPath, changed);
    const broken = await trendflow('models', 'verify', 'unpinned', ...common);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`^trendflow: ${changedPath.replace(/[.]/g, '\\.')}: model_digest_mismatch: .* has sha256 ${sha(changed)}, the lock file records ${sha(GOOD)}: run \`npx trendflow models fetch unpinned --allow-unpinned --models-dir .*\` to download it again\\n$`));

    const missing = await trendflow('models', 'verify', 'wrong', ...common);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`model_not_found: model wrong file w.onnx is not in ${modelsDir}: run \`npx trendflow models fetch wrong --models-dir ${modelsDir}\``);

    const unknown = await trendflow('models', 'verify', 'nope', ...common);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^trendflow: nope: model_unknown: no model "nope" in the registry; known models: good, unpinned, wrong, gone\n$/);
  });

  it('adds a local ONNX file and lists it', async () => {
    const modelsDir = path.join(await tmp(), 'models');
    const file = sharedModel('ultraface-rfb-320', 'version-RFB-320.onnx');
    const added = await trendflow('models', 'add', file, '--id', 'my-faces', '--license', 'MIT', '--models-dir', modelsDir);
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    expect(added.stdout).toContain(`added my-faces: ${path.join(modelsDir, 'my-faces', 'version-RFB-320.onnx')}`);
    expect(added.stdout).toContain('inputs: input float32[1,3,240,320]');
    expect(added.stdout).toContain('outputs: scores float32[1,4420,2], boxes float32[1,4420,4]');

    const listed = JSON.parse((await trendflow('models', 'list', '--json', '--models-dir', modelsDir)).stdout) as { models: { id: string; source: string; installed: string }[] };
    expect(listed.models.find((m) => m.id === 'my-faces')).toMatchObject({ source: 'local', installed: 'installed' });
    const verified = await trendflow('models', 'verify', '--models-dir', modelsDir);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/^OK my-faces\/version-RFB-320\.onnx: sha256 34cd7e60/);

    const junk = path.join(await tmp(), 'junk.onnx');
    await fs.writeFile(junk, 'nope');
    const bad = await trendflow('models', 'add', junk, '--id', 'junk', '--models-dir', modelsDir);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`^trendflow: ${junk.replace(/[.]/g, '\\.')}: model_load_failed: onnxruntime cannot load this file`));
  });

  it('exits 2 on usage errors', async () => {
    const noIds = await trendflow('models', 'fetch');
    expect(noIds.status).toBe(2);
    expect(noIds.stderr).toContain('give model ids, or --all');
    const noId = await trendflow('models', 'add', 'x.onnx');
    expect(noId.status).toBe(2);
    expect(noId.stderr).toContain("required option '--id <id>' not specified");
    const badId = await trendflow('models', 'add', 'x.onnx', '--id', 'Bad Id');
    expect(badId.status).toBe(2);
  });
});
