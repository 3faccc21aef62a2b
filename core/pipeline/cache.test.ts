import { describe, expect, it } from 'vitest';
import { sampleIdentity } from '../../test/helpers/manifest.js';
import type { ComponentName } from '../contracts/components.js';
import { cacheKey, type CacheKeyInput } from './cache.js';
import type { ComponentDefinition } from './component.js';
import { RUN_REQUEST_FORMAT, type RunRequest } from './request.js';
import { RUN_CONFIG_FORMAT, type ResolvedComponent } from './run-config.js';

const definition = (uses: Partial<ComponentDefinition['uses']> = {}, versions: Partial<Pick<ComponentDefinition, 'producerVersion' | 'schemaVersion'>> = {}) =>
  ({
    name: 'core_clip',
    kind: 'core',
    producerVersion: '1.0.0',
    schemaVersion: 'core_clip_npz_v1',
    dependencies: [],
    uses: { frames: true, signals: false, audio: false, metadata: false, snapshots: false, ...uses },
    defaults: {},
    parseConfig: (v: unknown) => v,
    run: async () => {
      throw new Error('not run');
    },
    ...versions,
  }) as ComponentDefinition<unknown>;

const component: ResolvedComponent = { required: true, params: { preset: 'openai_clip_224' }, models: { 'clip-image': { model_name: 'openai/clip', model_version: 'rev1', files: { 'model.onnx': 'a'.repeat(64) } } } };

function request(overrides: Partial<RunRequest['inputs']> = {}, segmenter = { analysis_fps: 12, analysis_short_side: 360 }): RunRequest {
  return {
    format: RUN_REQUEST_FORMAT,
    identity: sampleIdentity(),
    profile: { name: 'tier0', file: '' },
    config: { format: RUN_CONFIG_FORMAT, segmenter, components: {}, not_implemented: [] },
    inputs: { video: { path: '/v.mp4', bytes: 1, sha256: 'e'.repeat(64) }, metadata: null, snapshots: null, ...overrides },
    options: { no_cache: false },
    created_at: '2026-01-01T00:00:00.000Z',
  };
}

const base: CacheKeyInput = {
  identity: sampleIdentity(),
  definition: definition(),
  component,
  request: request(),
  frameComponents: ['core_clip', 'cut_detection'] as ComponentName[],
  dependencies: {},
};

describe('cacheKey (DESIGN.md §9)', () => {
  it('is stable for the same inputs, whatever the run, config_hash or dataprocessor_version', () => {
    const again = { ...base, identity: sampleIdentity({ run_id: 'another-run', config_hash: 'f'.repeat(64), dataprocessor_version: '9.9.9' }) };
    expect(cacheKey(again)).toBe(cacheKey(base));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with each field of the key', () => {
    const key = cacheKey(base);
    const variants: [string, CacheKeyInput][] = [
      ['platform_id', { ...base, identity: sampleIdentity({ platform_id: 'youtube' }) }],
      ['video_id', { ...base, identity: sampleIdentity({ video_id: 'file-ffffffffffffffff' }) }],
      ['sampling_policy_version', { ...base, identity: sampleIdentity({ sampling_policy_version: 'sampling_policy_v2' }) }],
      ['producer_version', { ...base, definition: definition({}, { producerVersion: '1.0.1' }) }],
      ['schema_version', { ...base, definition: definition({}, { schemaVersion: 'core_clip_npz_v2' }) }],
      ['a param', { ...base, component: { ...component, params: { preset: 'openai_clip_336' } } }],
      ['the model weights', { ...base, component: { ...component, models: { 'clip-image': { ...component.models['clip-image']!, files: { 'model.onnx': 'b'.repeat(64) } } } } }],
      ['the model version', { ...base, component: { ...component, models: { 'clip-image': { ...component.models['clip-image']!, model_version: 'rev2' } } } }],
      ['the video bytes', { ...base, request: request({ video: { path: '/v.mp4', bytes: 1, sha256: 'd'.repeat(64) } }) }],
      ['the segmenter settings', { ...base, request: request({}, { analysis_fps: 6, analysis_short_side: 360 }) }],
      ['the frame union (other frame components)', { ...base, frameComponents: ['core_clip'] }],
      ['an input artifact', { ...base, dependencies: { cut_detection: 'sha256:' + 'c'.repeat(64) } }],
    ];
    const keys = variants.map(([, input]) => cacheKey(input));
    variants.forEach(([what], i) => expect(keys[i], what).not.toBe(key));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('counts only the inputs a component reads', () => {
    const reader = { ...base, definition: definition({ frames: false, metadata: true }) };
    const withMeta = (sha: string) => ({ ...reader, request: request({ metadata: { path: '/m.json', sha256: sha } }) });
    expect(cacheKey(withMeta('1'.repeat(64)))).not.toBe(cacheKey(withMeta('2'.repeat(64))));
    // a metadata-only component does not depend on the video bytes nor the frames
    const otherVideo = { ...withMeta('1'.repeat(64)), request: { ...withMeta('1'.repeat(64)).request, inputs: { ...withMeta('1'.repeat(64)).request.inputs, video: { path: '/w.mp4', bytes: 2, sha256: 'd'.repeat(64) } } }, frameComponents: [] };
    expect(cacheKey(otherVideo)).toBe(cacheKey(withMeta('1'.repeat(64))));
    // a frame reader does not depend on the metadata
    expect(cacheKey({ ...base, request: request({ metadata: { path: '/m.json', sha256: '1'.repeat(64) } }) })).toBe(cacheKey(base));
  });
});
