import { describe, expect, it } from 'vitest';
import type { ComponentName } from '../contracts/components.js';
import { isTrendflowError } from '../contracts/errors.js';
import { ModelRegistry } from '../runtime/registry/registry.js';
import type { ModelEntry } from '../runtime/registry/types.js';
import { configHash } from '../store/identity.js';
import type { ComponentDefinition, ComponentDependency } from './component.js';
import { configParser } from './config.js';
import type { Profile } from './profile.js';
import { componentConfigHash, dependencyOrder, resolveRunConfig, type ComponentTable } from './run-config.js';

function model(id: string, sha256: string | null): ModelEntry {
  return {
    id,
    model_name: `org/${id}`,
    model_version: 'rev1',
    license: 'MIT',
    task: 'test',
    engine: 'onnx',
    files: [{ name: 'model.onnx', url: 'https://example.invalid/model.onnx', sha256, bytes: 10, pinned_by: sha256 ? 'registry' : null }],
    inputs: [],
    outputs: [],
    preprocessing: null,
    source: 'builtin',
    companions: [],
  };
}

const registry = (digest = 'a'.repeat(64)) => new ModelRegistry([model('enc-a', digest), model('enc-b', null)], { registryFile: '', modelsDir: '', localRegistryFile: null, lockFile: null });

interface Params {
  model: string;
  size: number;
}

function component(name: ComponentName, dependencies: ComponentDependency[] = []): ComponentDefinition<Params> {
  const defaults = { model: 'enc-a', size: 8 };
  return {
    name,
    kind: 'module',
    producerVersion: '1.0.0',
    schemaVersion: `${name}_npz_v1`,
    dependencies,
    uses: { frames: false, signals: false, audio: false, metadata: false, snapshots: false },
    defaults,
    parseConfig: configParser(name, { properties: { model: { type: 'string' }, size: { type: 'integer', minimum: 1 } } }, defaults),
    run: async () => {
      throw new Error('not run here');
    },
  };
}

// video_aggregates ← shot_quality ← (core_clip, cut_detection); scene_classification ← core_clip, optionally cut_detection
const table: ComponentTable = new Map(
  [
    component('core_clip'),
    component('cut_detection'),
    component('shot_quality', [
      { component: 'core_clip', need: 'required' },
      { component: 'cut_detection', need: 'required' },
      { component: 'core_face_landmarks', need: 'optional' },
    ]),
    component('scene_classification', [
      { component: 'core_clip', need: 'required' },
      { component: 'cut_detection', need: 'optional' },
    ]),
    component('video_aggregates', [
      { component: 'shot_quality', need: 'required' },
      { component: 'loudness_extractor', need: 'required' },
    ]),
  ].map((d) => [d.name, d as ComponentDefinition<unknown>]),
);

function profile(components: Partial<Record<ComponentName, { required: boolean; params?: Record<string, unknown> }>>): Profile {
  return {
    name: 'p',
    description: '',
    file: '',
    segmenter: { analysis_fps: 12, analysis_short_side: 360 },
    components: new Map(Object.entries(components).map(([n, c]) => [n as ComponentName, { required: c.required, params: c.params ?? {} }])),
  };
}

function requiredness(config: ReturnType<typeof resolveRunConfig>): Record<string, boolean> {
  return Object.fromEntries(Object.entries(config.components).map(([n, c]) => [n, c!.required]));
}

describe('resolveRunConfig', () => {
  it('adds what selected components require, in dependency order; the profile’s flag wins where it has one', () => {
    const config = resolveRunConfig({ profile: profile({ video_aggregates: { required: true }, core_clip: { required: false }, scene_classification: { required: false } }), components: table, registry: registry() });
    expect(Object.keys(config.components)).toEqual(['core_clip', 'cut_detection', 'shot_quality', 'scene_classification', 'video_aggregates']);
    // cut_detection and shot_quality came in for a required component: required; core_clip is listed optional
    expect(requiredness(config)).toEqual({ core_clip: false, cut_detection: true, scene_classification: false, shot_quality: true, video_aggregates: true });
    // an optional dependency is not pulled in; an unimplemented required one is listed
    expect(config.components.core_face_landmarks).toBeUndefined();
    expect(config.not_implemented).toEqual(['loudness_extractor']);
  });

  it('lists profile components that are not implemented instead of running them', () => {
    const config = resolveRunConfig({ profile: profile({ core_clip: { required: true }, tempo_extractor: { required: true } }), components: table, registry: registry() });
    expect(Object.keys(config.components)).toEqual(['core_clip']);
    expect(config.not_implemented).toEqual(['tempo_extractor']);
  });

  it('--components runs just those and what they require; one the profile does not list is required', () => {
    const config = resolveRunConfig({ profile: profile({ core_clip: { required: false, params: { size: 4 } } }), only: ['scene_classification'], components: table, registry: registry() });
    expect(requiredness(config)).toEqual({ core_clip: false, scene_classification: true });
    expect((config.components.core_clip!.params as Params).size).toBe(4);
    let error: unknown;
    try {
      resolveRunConfig({ profile: profile({}), only: ['tempo_extractor'], components: table, registry: registry() });
    } catch (e) {
      error = e;
    }
    expect(isTrendflowError(error) && `${error.code}: ${error.message}`).toMatch(/^invalid_argument: not implemented yet: tempo_extractor \(available: core_clip, /);
  });

  it('merges defaults under the params and refuses unknown keys and bad values', () => {
    const config = resolveRunConfig({ profile: profile({ core_clip: { required: true, params: { size: 2 } } }), components: table, registry: registry() });
    expect(config.components.core_clip!.params).toEqual({ model: 'enc-a', size: 2 });
    for (const params of [{ sise: 2 }, { size: 0 }]) {
      expect(() => resolveRunConfig({ profile: profile({ core_clip: { required: true, params } }), components: table, registry: registry() })).toThrow(/core_clip config/);
    }
  });

  it('resolves the models a config names to their pinned versions and digests (the model mapping)', () => {
    const config = resolveRunConfig({ profile: profile({ core_clip: { required: true }, cut_detection: { required: true, params: { model: 'enc-b' } } }), components: table, registry: registry() });
    expect(config.components.core_clip!.models).toEqual({ 'enc-a': { model_name: 'org/enc-a', model_version: 'rev1', files: { 'model.onnx': 'a'.repeat(64) } } });
    expect(config.components.cut_detection!.models).toEqual({ 'enc-b': { model_name: 'org/enc-b', model_version: 'rev1', files: { 'model.onnx': null } } });
  });

  it('gives a config hash that changes with a param, a model digest, the selection, and nothing else', () => {
    const base = profile({ core_clip: { required: true } });
    const hash = (p: Profile, r = registry()) => configHash(resolveRunConfig({ profile: p, components: table, registry: r }));
    expect(hash(base)).toBe(hash(profile({ core_clip: { required: true } })));
    expect(hash(profile({ core_clip: { required: true, params: { size: 9 } } }))).not.toBe(hash(base));
    expect(hash(base, registry('b'.repeat(64)))).not.toBe(hash(base));
    expect(hash(profile({ core_clip: { required: true }, cut_detection: { required: false } }))).not.toBe(hash(base));
    expect(hash(profile({ core_clip: { required: false } }))).not.toBe(hash(base));
    // a component's own hash covers its params and models only
    const one = resolveRunConfig({ profile: profile({ core_clip: { required: true }, cut_detection: { required: true, params: { size: 3 } } }), components: table, registry: registry() });
    const two = resolveRunConfig({ profile: profile({ core_clip: { required: true }, cut_detection: { required: true } }), components: table, registry: registry() });
    expect(componentConfigHash(one.components.core_clip!)).toBe(componentConfigHash(two.components.core_clip!));
    expect(componentConfigHash(one.components.cut_detection!)).not.toBe(componentConfigHash(two.components.cut_detection!));
  });
});

describe('dependencyOrder', () => {
  it('puts dependencies first and refuses a cycle', () => {
    expect(dependencyOrder(['video_aggregates', 'shot_quality', 'cut_detection', 'core_clip'], table)).toEqual(['core_clip', 'cut_detection', 'shot_quality', 'video_aggregates']);
    const cyclic: ComponentTable = new Map([
      ['core_clip', component('core_clip', [{ component: 'cut_detection', need: 'optional' }]) as ComponentDefinition<unknown>],
      ['cut_detection', component('cut_detection', [{ component: 'core_clip', need: 'required' }]) as ComponentDefinition<unknown>],
    ]);
    expect(() => dependencyOrder(['core_clip', 'cut_detection'], cyclic)).toThrow(/cycle: core_clip → cut_detection → core_clip/);
  });
});
