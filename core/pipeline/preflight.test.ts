/**
 * The model pre-flight: which files of a run config are checked (in-process models, not Triton-served ones nor a
 * model the config's engine does not read), what each problem says (the fetch command, the size found), and what
 * the orchestrator does with them: a required component's missing model ends the run before the video is probed or
 * segmented; an optional component's is recorded as its `model_not_found` error without running it.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fake, table } from '../../test/e2e/fake-components.js';
import { prepareClipModelsDir } from '../../test/helpers/clip-models.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import type { ComponentName } from '../contracts/components.js';
import { coreClipComponent } from '../providers/core_clip/index.js';
import { coreOpticalFlowComponent } from '../providers/core_optical_flow/index.js';
import { OnnxSessionRegistry } from '../runtime/onnx/sessions.js';
import type { ModelRegistry } from '../runtime/registry/index.js';
import { validateRunDir } from '../schema/index.js';
import { readManifest } from '../store/manifest.js';
import { framesDir } from '../store/paths.js';
import type { AnalysisEvent } from './events.js';
import { analyzeVideo } from './orchestrator.js';
import { checkModelFiles, problemLines, requiredModelsFailure } from './preflight.js';
import type { Profile } from './profile.js';
import { resolveRunConfig, type ComponentTable } from './run-config.js';

const tmp = useTempDirs('preflight-');
let modelsDir: string;
let registry: ModelRegistry;

function profile(components: Partial<Record<ComponentName, { required: boolean; params?: Record<string, unknown> }>>): Profile {
  return {
    name: 'test',
    description: 'pre-flight test',
    file: '/dev/null',
    segmenter: { analysis_fps: 6, analysis_short_side: 48 },
    components: new Map(Object.entries(components).map(([name, c]) => [name as ComponentName, { required: c.required, params: c.params ?? {} }])),
  };
}

const COMPONENTS = table(coreClipComponent, coreOpticalFlowComponent);
const check = (chosen: Profile) => checkModelFiles(resolveRunConfig({ profile: chosen, components: COMPONENTS, registry }), modelsDir, registry, COMPONENTS);
const fetchCommand = (id: string) => `\`npx trendflow models fetch ${id} --models-dir ${modelsDir}\``;

beforeAll(async () => {
  // the generated CLIP-contract encoders and the real BPE vocabulary; the registry's real CLIP towers and RAFT are absent
  ({ modelsDir, registry } = await prepareClipModelsDir(await tmp()));
});

describe('checkModelFiles', () => {
  it('lists each missing file of an in-process component with the command that fetches it; present files pass', async () => {
    const problems = await check(profile({ core_clip: { required: true } }));
    expect(problems.map((p) => [p.component, p.model_id, p.file, p.error_code])).toEqual([
      ['core_clip', 'clip-vit-b32-image', 'vision_model.onnx', 'model_not_found'],
      ['core_clip', 'clip-vit-b32-text', 'text_model.onnx', 'model_not_found'],
    ]);
    expect(problems[0]!.message).toBe(`model clip-vit-b32-image file vision_model.onnx is not in ${modelsDir}: run ${fetchCommand('clip-vit-b32-image')}`);
    expect(await check(profile({ core_clip: { required: true, params: { image_model: 'test-clip-image', text_model: 'test-clip-text' } } }))).toEqual([]);
  });

  it('a file of the wrong size is a digest mismatch, told from its size alone', async () => {
    const work = await tmp();
    const dir = path.join(work, 'clip-vit-b32-text');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'text_model.onnx'), 'truncated download');
    const config = resolveRunConfig({ profile: profile({ core_clip: { required: false, params: { image_model: 'test-clip-image' } } }), components: COMPONENTS, registry });
    const problems = await checkModelFiles(config, work, registry, COMPONENTS);
    const text = problems.find((p) => p.model_id === 'clip-vit-b32-text')!;
    expect(text).toMatchObject({ required: false, error_code: 'model_digest_mismatch' });
    expect(text.message).toMatch(/text_model\.onnx is 18 bytes, the registry expects 254058553 bytes: run `npx trendflow models fetch clip-vit-b32-text .*` to download it again$/);
  });

  it('a component on Triton: its ONNX models are the server’s, only its vocabulary is a local file', async () => {
    const triton = { runtime: 'triton', triton: { triton_http_url: 'http://triton:8000' } };
    expect(await check(profile({ core_clip: { required: true, params: triton } }))).toEqual([]);
    const withoutVocabulary = await check(profile({ core_clip: { required: true, params: { ...triton, vocab_model: 'multilingual-mpnet-tokenizer' } } }));
    expect(withoutVocabulary.map((p) => [p.model_id, p.file])).toEqual([
      ['multilingual-mpnet-tokenizer', 'tokenizer.json'],
      ['multilingual-mpnet-tokenizer', 'tokenizer_config.json'],
    ]);
  });

  it('a model the config names but its engine does not read is not checked (optical flow by block matching)', async () => {
    expect(await check(profile({ core_optical_flow: { required: false, params: { engine: 'block_matching' } } }))).toEqual([]);
    const raft = resolveRunConfig({ profile: profile({ core_optical_flow: { required: false } }), components: COMPONENTS, registry });
    expect((await checkModelFiles(raft, modelsDir, registry, COMPONENTS)).map((p) => [p.model_id, p.error_code])).toEqual([['raft-small', 'model_not_found']]);
    // present but unpinned (no digest fetched with --allow-unpinned): the component could not check it, so neither passes
    const work = await tmp();
    await fs.mkdir(path.join(work, 'raft-small'));
    await fs.writeFile(path.join(work, 'raft-small', 'raft_small_iter10_240x320.onnx'), 'onnx');
    const [unpinned] = await checkModelFiles(raft, work, registry, COMPONENTS);
    expect(unpinned).toMatchObject({ error_code: 'model_unpinned' });
    expect(unpinned!.message).toContain('models fetch raft-small --allow-unpinned');
  });

  it('one line per file, naming every component that needs it; the run-level error only for required ones', async () => {
    const problems = await check(profile({ core_clip: { required: true }, core_optical_flow: { required: false } }));
    const lines = problemLines([...problems, { ...problems[0]!, component: 'scene_classification', required: false }]);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({ error_code: 'model_not_found', line: `core_clip (required), scene_classification (optional): ${problems[0]!.message}` });
    expect(requiredModelsFailure(problems.filter((p) => !p.required))).toBeNull();
    const failure = requiredModelsFailure(problems)!;
    expect(failure.code).toBe('model_not_found');
    for (const id of ['clip-vit-b32-image', 'clip-vit-b32-text', 'raft-small']) expect(failure.message).toContain(fetchCommand(id));
  });
});

describe('the orchestrator’s pre-flight', () => {
  let fixtures: VideoFixtures;
  let video: string;
  const sessions = new OnnxSessionRegistry();

  beforeAll(async () => {
    fixtures = await VideoFixtures.create();
    video = await fixtures.colors();
    return async () => {
      await sessions.releaseAll();
      await fixtures.cleanup();
    };
  });

  async function run(components: ComponentTable, chosen: Profile) {
    const workspace = await tmp();
    const events: AnalysisEvent[] = [];
    const outcome = await analyzeVideo({ video, profile: chosen }, { workspace, modelsDir, registry, components, sessions, index: null, onEvent: (e) => events.push(e) });
    return { workspace, events, outcome, manifest: await readManifest(outcome.run_dir) };
  }

  it('a required component’s missing model ends the run before the video is probed or segmented, naming every missing model', async () => {
    const ran: string[] = [];
    const components = table(coreClipComponent, coreOpticalFlowComponent, fake('cut_detection', { onRun: () => ran.push('cut_detection') }));
    const { workspace, events, outcome, manifest } = await run(components, profile({ core_clip: { required: true }, core_optical_flow: { required: false }, cut_detection: { required: true } }));
    expect(outcome.status).toBe('error');
    expect(outcome.error!.error_code).toBe('model_not_found');
    for (const id of ['clip-vit-b32-image', 'clip-vit-b32-text', 'raft-small']) expect(outcome.error!.message).toContain(fetchCommand(id));
    // the run exists like any failed run: manifest with status error and the code, no component run or recorded
    expect(manifest.run).toMatchObject({ status: 'error', error: { error_code: 'model_not_found' } });
    expect(manifest.components).toEqual([]);
    expect(Object.values(outcome.components).map((c) => c!.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(ran).toEqual([]);
    // nothing decoded: no frames_dir, no segmenter or component event
    expect(existsSync(framesDir(workspace, manifest.run))).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['run_started', 'run_finished']);
    expect((await validateRunDir(outcome.run_dir)).ok).toBe(true);
  });

  it('an optional component’s missing model is recorded as its model_not_found error without running; the run goes on', async () => {
    const components = table(coreClipComponent, fake('cut_detection'), fake('shot_quality', { dependencies: [{ component: 'core_clip', need: 'required' }] }));
    const { events, outcome, manifest } = await run(components, profile({ core_clip: { required: false }, cut_detection: { required: true }, shot_quality: { required: false } }));
    expect(outcome.status).toBe('ok');
    const clip = manifest.components.find((c) => c.name === 'core_clip')!;
    expect(clip).toMatchObject({ status: 'error', artifacts: [], models_used: [] });
    expect(clip.error!.error_code).toBe('model_not_found');
    expect(clip.error!.message).toContain(fetchCommand('clip-vit-b32-image'));
    expect(events.some((e) => e.type === 'component_started' && e.component === 'core_clip')).toBe(false);
    // its dependant sees a failed dependency, as with any optional failure
    expect(manifest.components.find((c) => c.name === 'shot_quality')).toMatchObject({ status: 'empty', empty_reason: 'dependency_missing' });
    expect(manifest.components.find((c) => c.name === 'cut_detection')).toMatchObject({ status: 'ok' });
    expect((await validateRunDir(outcome.run_dir)).ok).toBe(true);
  });
});
