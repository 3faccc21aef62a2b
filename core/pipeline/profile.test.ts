import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { COMPONENT_NAMES } from '../contracts/components.js';
import { isTrendflowError } from '../contracts/errors.js';
import { builtinProfileNames, loadProfile, PROFILE_FORMAT } from './profile.js';

const tmp = useTempDirs('profile-');

async function codeAndMessage(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isTrendflowError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error('expected a TrendflowError');
}

async function write(dir: string, name: string, value: unknown): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('built-in profiles', () => {
  it('are tier0, full and quick', async () => {
    expect(await builtinProfileNames()).toEqual(['full', 'quick', 'tier0']);
  });

  it('tier0 is the Tier-0 set of seed 002 §13: visual, audio, temporal; the temporal ones optional', async () => {
    const tier0 = await loadProfile();
    expect(tier0.name).toBe('tier0');
    const required = [...tier0.components].filter(([, c]) => c.required).map(([name]) => name).sort();
    expect(required).toEqual(['clap_extractor', 'core_clip', 'cut_detection', 'loudness_extractor', 'scene_classification', 'shot_quality', 'tempo_extractor', 'video_pacing']);
    expect(tier0.components.get('temporal_snapshot_features')?.required).toBe(false);
    expect(tier0.components.get('targets_builder_multi_horizon')?.required).toBe(false);
    expect(tier0.segmenter).toEqual({ analysis_fps: 12, analysis_short_side: 360 });
  });

  it('full extends tier0 with every Tier-1 component as optional', async () => {
    const [tier0, full] = await Promise.all([loadProfile('tier0'), loadProfile('full')]);
    for (const [name, c] of tier0.components) expect(full.components.get(name)).toEqual(c);
    const added = [...full.components.keys()].filter((name) => !tier0.components.has(name));
    expect(added.sort()).toEqual(['core_depth_midas', 'core_object_detections', 'core_optical_flow', 'shot_sequence', 'text_processor', 'video_aggregates']);
    for (const name of added) expect(full.components.get(name)!.required).toBe(false);
    expect(COMPONENT_NAMES.filter((n) => n !== 'prediction' && !full.components.has(n))).toEqual([]);
  });

  it('quick is a small set at a lower analysis rate', async () => {
    const quick = await loadProfile('quick');
    expect([...quick.components.keys()]).toEqual(['core_clip', 'cut_detection', 'loudness_extractor']);
    expect(quick.segmenter.analysis_fps).toBe(6);
  });
});

describe('profile files', () => {
  it('a copied and edited profile extends a built-in one: params merge, required changes, null removes', async () => {
    const dir = await tmp();
    const file = await write(dir, 'mine.json', {
      format: PROFILE_FORMAT,
      name: 'mine',
      description: 'tier0 with test models and without audio',
      extends: 'tier0',
      segmenter: { analysis_fps: 4 },
      components: {
        core_clip: { params: { image_model: 'a', text_model: 'b' } },
        clap_extractor: null,
        tempo_extractor: { required: false },
      },
    });
    const mine = await loadProfile(file);
    expect(mine).toMatchObject({ name: 'mine', file, segmenter: { analysis_fps: 4, analysis_short_side: 360 } });
    expect(mine.components.get('core_clip')).toEqual({ required: true, params: { image_model: 'a', text_model: 'b' } });
    expect(mine.components.has('clap_extractor')).toBe(false);
    expect(mine.components.get('tempo_extractor')!.required).toBe(false);
    // a second level, by relative path
    const child = await write(dir, 'child.json', { format: PROFILE_FORMAT, name: 'child', description: '', extends: './mine.json', components: { core_clip: { params: { batch_size: 4 } } } });
    expect((await loadProfile(child)).components.get('core_clip')!.params).toEqual({ image_model: 'a', text_model: 'b', batch_size: 4 });
  });

  it('refuses what would silently run something else: unknown keys, unknown components, bad values, cycles', async () => {
    const dir = await tmp();
    const base = { format: PROFILE_FORMAT, name: 'p', description: '' };
    const cases: [unknown, RegExp][] = [
      ['{ nope', /^invalid_argument: the profile is not valid JSON/],
      [{ ...base, components: {}, segmenter: { analysis_fsp: 3 } }, /unknown key "analysis_fsp"/],
      [{ ...base, components: { core_clp: { required: true } } }, /does not match trendflow_profile_v1/],
      [{ ...base, components: { core_clip: { required: 'yes' } } }, /must be boolean/],
      [{ ...base, components: { core_clip: { params: {} } } }, /core_clip must say whether it is required/],
      [{ ...base, components: {}, segmenter: { analysis_fps: 1000 } }, /must be <= 60/],
      [{ ...base, format: 'other', components: {} }, /must be equal to constant/],
    ];
    for (const [i, [value, expected]] of cases.entries()) {
      expect(await codeAndMessage(loadProfile(await write(dir, `bad${i}.json`, value)))).toMatch(expected);
    }
    await write(dir, 'a.json', { ...base, name: 'a', extends: './b.json', components: {} });
    await write(dir, 'b.json', { ...base, name: 'b', extends: './a.json', components: {} });
    expect(await codeAndMessage(loadProfile(path.join(dir, 'a.json')))).toMatch(/^invalid_argument: profiles extend each other in a cycle/);
  });

  it('an unknown name lists the built-in profiles', async () => {
    expect(await codeAndMessage(loadProfile('tier9'))).toBe('invalid_argument: no profile "tier9" (built-in profiles: full, quick, tier0; or give a path to a profile JSON file)');
  });
});
