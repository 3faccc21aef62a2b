import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { COMPONENT_NAMES } from '../contracts/components.js';
import { isTrendflowError, type TrendflowError } from '../contracts/errors.js';
import { parseSchema } from './format.js';
import { defaultSchemasDir, listSchemaComponents, loadAllSchemas, loadSchema } from './registry.js';

const tmp = useTempDirs('schema-format-');

async function readSchemaJson(component: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(defaultSchemasDir(), `${component}.json`), 'utf8')) as Record<string, unknown>;
}

function invalidMessage(value: unknown): string {
  try {
    parseSchema(value, 'test.json');
  } catch (error) {
    expect(isTrendflowError(error)).toBe(true);
    expect((error as TrendflowError).code).toBe('schema_invalid');
    return (error as TrendflowError).message;
  }
  throw new Error('expected schema_invalid');
}

describe('schema files in schemas/', () => {
  it('every file loads and passes the format check, named after its component', () => {
    const schemas = loadAllSchemas();
    expect(schemas.map((s) => s.component)).toEqual(
      expect.arrayContaining(['core_clip', 'core_face_landmarks', 'loudness_extractor', 'tempo_extractor', 'clap_extractor', 'text_processor']),
    );
    for (const schema of schemas) {
      expect(COMPONENT_NAMES).toContain(schema.component);
      expect(schema.artifact).toMatch(/\.npz$/);
    }
  });

  it('uses the schema_version the seeds fix', () => {
    expect(loadSchema('core_clip').schema_version).toBe('core_clip_npz_v1');
    expect(loadSchema('core_face_landmarks').schema_version).toBe('core_face_landmarks_npz_v1');
    // the audio family: v2 added loudness series and CLAP window embeddings (docs/CHANGELOG.md)
    expect(loadSchema('loudness_extractor').schema_version).toBe('audio_npz_v2');
    expect(loadSchema('tempo_extractor').schema_version).toBe('audio_npz_v1');
    expect(loadSchema('clap_extractor').schema_version).toBe('audio_npz_v2');
    expect(loadSchema('text_processor').schema_version).toBe('text_npz_v2');
  });

  it('fills defaults so code sees one shape', () => {
    const clip = loadSchema('core_clip');
    expect(clip.additional_keys).toBe(false);
    expect(clip.extra_empty_reasons).toEqual([]);
    expect(clip.rules).toEqual([]);
    expect(clip.key_groups).toEqual({});
  });

  it('caches: a second load returns the same object', () => {
    expect(loadSchema('core_clip')).toBe(loadSchema('core_clip'));
  });

  it('refuses unknown components and components without a schema', () => {
    expect(() => loadSchema('not_a_component')).toThrow(/not a component name/);
    // every canonical component has a schema in schemas/: a folder without one stands in for a broken install
    expect(() => loadSchema('prediction', path.join(defaultSchemasDir(), 'not-a-schemas-folder'))).toThrow(expect.objectContaining({ code: 'schema_not_found' }));
  });

  it('every canonical component has a schema', () => {
    expect(loadAllSchemas().map((s) => s.component).sort()).toEqual([...COMPONENT_NAMES].sort());
  });
});

describe('the format check', () => {
  it('names the member of a structurally broken schema', async () => {
    const clip = await readSchemaJson('core_clip');
    const keys = clip.keys as Record<string, Record<string, unknown>>;
    keys.frame_indices!.dtype = 'int33';
    expect(invalidMessage(clip)).toMatch(/\/keys\/frame_indices\/dtype/);
  });

  it('refuses unknown members, a declared meta key and a missing description', async () => {
    const clip = await readSchemaJson('core_clip');
    expect(invalidMessage({ ...clip, extra: 1 })).toMatch(/additional properties \(extra\)/);
    const keys = clip.keys as Record<string, Record<string, unknown>>;
    expect(invalidMessage({ ...clip, keys: { ...keys, meta: keys.frame_indices } })).toMatch(/\/keys/);
    delete keys.frame_embeddings!.description;
    expect(invalidMessage(clip)).toMatch(/description/);
  });

  it('refuses undeclared and unused dims', async () => {
    const clip = await readSchemaJson('core_clip');
    const dims = clip.dims as Record<string, unknown>;
    delete dims.P;
    expect(invalidMessage(clip)).toMatch(/uses dim P, which \/dims does not declare/);
    const again = await readSchemaJson('core_clip');
    (again.dims as Record<string, unknown>).Q = { min: 0, description: 'unused' };
    expect(invalidMessage(again)).toMatch(/\/dims\/Q is declared but no key uses it/);
  });

  it('refuses cross-key references that do not resolve', async () => {
    const face = await readSchemaJson('core_face_landmarks');
    const keys = face.keys as Record<string, Record<string, unknown>>;
    keys.face_landmarks!.present_mask = 'frame_indices';
    keys.has_any_face!.equals_any = 'face_landmarks';
    const message = invalidMessage(face);
    expect(message).toMatch(/present_mask names frame_indices, which is not a bool key/);
    expect(message).toMatch(/equals_any/);
  });

  it('refuses rules on keys that are not 0-d and on statuses the schema does not allow', async () => {
    const clip = await readSchemaJson('core_clip');
    clip.rules = [{ description: 'x', if: { 'meta.status': 'empty' }, then: { frame_embeddings: 1 } }];
    const message = invalidMessage(clip);
    expect(message).toMatch(/"empty" is not a status this schema allows/);
    expect(message).toMatch(/frame_embeddings is not a 0-d key/);
  });

  it('refuses redundant meta requirements and empty reasons', async () => {
    const face = await readSchemaJson('core_face_landmarks');
    face.meta = { required: ['producer'] };
    face.extra_empty_reasons = ['no_faces_in_video'];
    const message = invalidMessage(face);
    expect(message).toMatch(/\/meta\/required lists producer/);
    expect(message).toMatch(/no_faces_in_video, which is in the canonical vocabulary/);
  });

  it('requires elements exactly for object arrays', async () => {
    const clip = await readSchemaJson('core_clip');
    const keys = clip.keys as Record<string, Record<string, unknown>>;
    delete keys.shot_quality_prompts!.elements;
    expect(invalidMessage(clip)).toMatch(/shot_quality_prompts must give elements exactly when its dtype includes object/);
  });

  it('does not modify its input', async () => {
    const clip = await readSchemaJson('core_clip');
    const before = JSON.stringify(clip);
    parseSchema(clip, 'core_clip.json');
    expect(JSON.stringify(clip)).toBe(before);
  });
});

describe('schema folders', () => {
  it('a broken schema file fails loudly, naming the file', async () => {
    const dir = await tmp();
    await fs.writeFile(path.join(dir, 'core_clip.json'), '{ "format": ');
    expect(() => loadSchema('core_clip', dir)).toThrow(expect.objectContaining({ code: 'schema_invalid' }));
    await fs.writeFile(path.join(dir, 'core_clip.json'), JSON.stringify(await readSchemaJson('core_face_landmarks')));
    const dir2 = await tmp();
    await fs.copyFile(path.join(dir, 'core_clip.json'), path.join(dir2, 'core_clip.json'));
    expect(() => loadSchema('core_clip', dir2)).toThrow(/named for core_clip but describes core_face_landmarks/);
  });

  it('a stray JSON file is refused; manifest.json is not an artifact schema', async () => {
    const dir = await tmp();
    await fs.writeFile(path.join(dir, 'manifest.json'), '{}');
    await fs.writeFile(path.join(dir, 'core_clip.json'), JSON.stringify(await readSchemaJson('core_clip')));
    expect(listSchemaComponents(dir)).toEqual(['core_clip']);
    await fs.writeFile(path.join(dir, 'clip.json'), '{}');
    expect(() => listSchemaComponents(dir)).toThrow(/clip.json is not named after a component/);
  });
});
