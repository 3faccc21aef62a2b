/** The workstation settings as a profile overlay (run-settings.ts), on the built-in profiles and components. */
import { beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../contracts/errors.js';
import { loadProfile, type Profile } from '../pipeline/profile.js';
import { COMPONENTS } from '../pipeline/registry.js';
import { componentConfigHash } from '../pipeline/run-config.js';
import { loadRegistry, type ModelRegistry } from '../runtime/registry/index.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import type { WorkstationSettings } from './contract.js';
import { applyWorkstationSettings } from './run-settings.js';
import { DEFAULT_SETTINGS } from './settings.js';

const tmp = useTempDirs('run-settings-');
let registry: ModelRegistry;
let quick: Profile;

/** A Triton mapping for core_clip as a profile gives it (the example of seed 000). */
const MAPPING = {
  triton_http_url: 'http://triton:8000',
  triton_image_model_name: 'clip_image',
  triton_image_model_version: '1',
  triton_image_input_name: 'INPUT__0',
  triton_image_output_name: 'OUTPUT__0',
  triton_image_datatype: 'FP32',
  triton_text_model_name: 'clip_text',
  triton_text_model_version: '1',
  triton_text_input_name: 'INPUT__0',
  triton_text_output_name: 'OUTPUT__0',
  triton_text_datatype: 'INT64',
  triton_preprocess_preset: 'openai_clip_224',
  batch_size: 16,
};

const settings = (patch: Partial<WorkstationSettings>): WorkstationSettings => ({ ...DEFAULT_SETTINGS, ...patch });
const apply = (profile: Profile, patch: Partial<WorkstationSettings>, only?: string[]) =>
  applyWorkstationSettings(profile, settings(patch), { only: only as never, components: COMPONENTS, registry, cudaAvailable: () => false });

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isTrendflowError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error('did not throw');
}

beforeAll(async () => {
  registry = await loadRegistry({ modelsDir: await tmp() });
  quick = await loadProfile('quick');
});

describe('workstation settings as a profile overlay', () => {
  it('the default settings change no param: the same components and config hashes as the profile alone', async () => {
    const { resolveRunConfig } = await import('../pipeline/run-config.js');
    const plain = resolveRunConfig({ profile: quick, components: COMPONENTS, registry });
    const { config } = apply(quick, {});
    expect(Object.keys(config.components)).toEqual(Object.keys(plain.components));
    for (const [name, resolved] of Object.entries(config.components)) {
      expect([name, componentConfigHash(resolved!)]).toEqual([name, componentConfigHash(plain.components[name as keyof typeof plain.components]!)]);
    }
  });

  it('sets device and batch size of the model components only; a dependency pulled in keeps its requiredness', async () => {
    const { config } = apply(quick, { batch_sizes: { core_clip: 3, core_face_landmarks: 5 } });
    expect(config.components.core_clip!.params).toMatchObject({ batch_size: 3, device: 'cpu', runtime: 'inprocess' });
    // core_face_landmarks is not in the quick profile: its batch size is not a reason to run it
    expect(config.components.core_face_landmarks).toBeUndefined();
    expect(config.components.cut_detection!.params).not.toHaveProperty('batch_size');
    const tier0 = await loadProfile('tier0');
    const pacingOnly = apply(tier0, { batch_sizes: { core_clip: 2 } }, ['video_pacing']).config;
    const plainPacing = (await import('../pipeline/run-config.js')).resolveRunConfig({ profile: tier0, only: ['video_pacing'], components: COMPONENTS, registry });
    expect(Object.fromEntries(Object.entries(pacingOnly.components).map(([name, c]) => [name, c!.required]))).toEqual(
      Object.fromEntries(Object.entries(plainPacing.components).map(([name, c]) => [name, c!.required])),
    );
  });

  it('device cuda without the CUDA provider is execution_provider_unavailable, unless no model component runs', () => {
    expect(codeOf(() => apply(quick, { device: 'cuda' }))).toMatch(/^execution_provider_unavailable: the workstation settings ask for device cuda \(for core_clip\)/);
    expect(apply(quick, { device: 'cuda' }, ['loudness_extractor']).config.components).toHaveProperty('loudness_extractor');
  });

  it('runtime triton: the URL of the settings replaces the mapping\'s, the batch size goes to the mapping; what cannot apply is refused', () => {
    const withMapping: Profile = { ...quick, components: new Map(quick.components) };
    withMapping.components.set('core_clip', { required: true, params: { triton: MAPPING } });
    const { config } = apply(withMapping, { runtime: 'triton', triton_url: 'http://gpu-box:8000', batch_sizes: { core_clip: 4 } });
    expect(config.components.core_clip!.params).toMatchObject({ runtime: 'triton', triton: { ...MAPPING, triton_http_url: 'http://gpu-box:8000', batch_size: 4 } });
    expect(codeOf(() => apply(quick, { runtime: 'triton', triton_url: 'http://gpu-box:8000' }))).toContain('invalid_argument: the workstation settings ask for runtime triton, but the profile gives core_clip no Triton model mapping');
    expect(codeOf(() => apply(withMapping, { runtime: 'triton', triton_url: null }))).toBe('invalid_argument: the workstation settings ask for runtime triton without a triton_url');
  });
});
