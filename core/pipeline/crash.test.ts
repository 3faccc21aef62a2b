/**
 * Crash safety: a process running an analysis is killed with SIGKILL while a component runs, after another one
 * finished. The run must then be shown as interrupted, hold no torn or unlisted file, and `resumeRun` must finish
 * it without redoing the finished component. The child runs the compiled orchestrator from dist/ (npm test builds
 * it first); its second component blocks until it is killed.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fake, table } from '../../test/e2e/fake-components.js';
import { prepareClipModelsDir, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID } from '../../test/helpers/clip-models.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { RunIndex } from '../index/db.js';
import { reconcileIndex } from '../index/sync.js';
import { coreClipComponent } from '../providers/core_clip/index.js';
import { loadSchema, validateRunDir } from '../schema/index.js';
import { readManifest } from '../store/manifest.js';
import { resumeRun } from './orchestrator.js';

const tmp = useTempDirs('crash-');
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
let fixtures: VideoFixtures;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
});
afterAll(async () => {
  await fixtures?.cleanup();
});

function dist(relative: string): string {
  const compiled = path.join(repoRoot, 'dist', relative.replace(/\.ts$/, '.js'));
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(path.join(repoRoot, relative)).mtimeMs) {
    throw new Error(`dist/ is older than ${relative}: run \`npm run build\` first (npm test does)`);
  }
  return pathToFileURL(compiled).href;
}

const CHILD = (imports: Record<string, string>, textSchemaVersion: string) => `
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { analyzeVideo } from ${JSON.stringify(imports.orchestrator)};
import { coreClipComponent } from ${JSON.stringify(imports.clip)};
import { RunIndex } from ${JSON.stringify(imports.db)};
import { configParser } from ${JSON.stringify(imports.config)};
const [workspace, modelsDir, video, marker, image, text] = process.argv.slice(2);
// the same definition as the parent's test component, except that it blocks until the process is killed
const blocking = {
  name: 'text_processor', kind: 'text', producerVersion: '1.0.0', schemaVersion: ${JSON.stringify(textSchemaVersion)},
  dependencies: [{ component: 'core_clip', need: 'required' }],
  uses: { frames: false, signals: false, audio: false, metadata: false, snapshots: false },
  defaults: { value: 1 },
  parseConfig: configParser('text_processor', { properties: { value: { type: 'integer' } } }, { value: 1 }),
  async run(ctx) {
    await fs.mkdir(path.join(ctx.runDir, 'text_processor'), { recursive: true });
    await fs.writeFile(path.join(ctx.runDir, 'text_processor', '.features.npz.partial.tmp'), 'half-written');
    await fs.writeFile(marker, ctx.runDir);
    setInterval(() => {}, 1000);
    await new Promise(() => {});
  },
};
const profile = {
  name: 'crash', description: '', file: '', segmenter: { analysis_fps: 6, analysis_short_side: 48 },
  components: new Map([['core_clip', { required: true, params: { image_model: image, text_model: text } }], ['text_processor', { required: true, params: {} }]]),
};
const index = RunIndex.open(path.join(workspace, 'index.sqlite'));
await analyzeVideo({ video, profile }, {
  workspace, modelsDir, index,
  components: new Map([['core_clip', coreClipComponent], ['text_processor', blocking]]),
  memory: async () => ({ ram_available_bytes: 16 * 2 ** 30, ram_total_bytes: 32 * 2 ** 30, gpus: null }),
});
`;

describe('kill -9 during a run', () => {
  it('leaves an interrupted run that resume finishes without redoing finished components, with no torn files', async () => {
    const imports = {
      orchestrator: dist('core/pipeline/orchestrator.ts'),
      clip: dist('core/providers/core_clip/index.ts'),
      db: dist('core/index/db.ts'),
      config: dist('core/pipeline/config.ts'),
    };
    const work = await tmp();
    const workspace = path.join(work, 'ws');
    const { modelsDir } = await prepareClipModelsDir(work);
    const script = path.join(work, 'child.mjs');
    const marker = path.join(work, 'marker');
    await fs.writeFile(script, CHILD(imports, loadSchema('text_processor').schema_version));
    const child = spawn(process.execPath, [script, workspace, modelsDir, await fixtures.colors(), marker, TEST_CLIP_IMAGE_ID, TEST_CLIP_TEXT_ID], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // kill it once the second component is running (core_clip is then recorded)
    const deadline = Date.now() + 30_000;
    while (!existsSync(marker)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the child never reached the second component: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const runDir = (await fs.readFile(marker, 'utf8')).trim();

    const killed = await readManifest(runDir);
    expect(killed.run.status).toBe('running');
    expect(killed.components.map((c) => [c.name, c.status])).toEqual([['core_clip', 'ok']]);

    // `runs` (reconcileIndex) shows it interrupted: its writer is dead
    const index = RunIndex.open(path.join(workspace, 'index.sqlite'));
    expect(await reconcileIndex(index, workspace)).toBe(1);
    expect(index.findRuns(killed.run.run_id)[0]!.status).toBe('interrupted');
    expect((await readManifest(runDir)).run.status).toBe('interrupted');

    const clipArtifact = path.join(runDir, killed.components[0]!.artifacts[0]!.path);
    const inode = (await fs.stat(clipArtifact)).ino;
    const started: string[] = [];
    const resumed = await resumeRun(runDir, {
      workspace,
      modelsDir,
      index,
      components: table(coreClipComponent, fake('text_processor', { dependencies: [{ component: 'core_clip', need: 'required' }] })),
      onEvent: (e) => e.type === 'component_started' && started.push(e.component),
    });
    expect(resumed.status).toBe('ok');
    expect(started).toEqual(['text_processor']);
    const manifest = await readManifest(runDir);
    expect(manifest.components.find((c) => c.name === 'core_clip')).toEqual(killed.components[0]);
    expect((await fs.stat(clipArtifact)).ino).toBe(inode);
    // the half-written file of the killed component is gone; the run validates
    expect((await validateRunDir(runDir)).problems).toEqual([]);
    expect(index.findRuns(killed.run.run_id)[0]!.status).toBe('ok');
    index.close();
  });
});
