import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { TrendflowError } from '../../contracts/errors.js';
import { startKServeServer } from '../../../test/helpers/kserve-server.js';
import { makeClipImageModel } from '../../../test/helpers/onnx-models.js';
import { sharedModel } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { TritonClient } from './client.js';
import { exportTritonRepo, modelConfigText, type ExportModelEntry } from './export-repo.js';

const tmp = useTempDirs('triton-export-');

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The registry's CLIP image entry (models/registry.json), as export-repo sees it. */
const CLIP_IMAGE: ExportModelEntry = {
  id: 'clip-vit-b32-image',
  model_name: 'Xenova/clip-vit-base-patch32',
  model_version: 'd15189d7028b2a1f2f2b5e3f1e0c6e9a1d2b3c4d',
  engine: 'onnx',
  files: [{ name: 'vision_model.onnx', sha256: null }],
  inputs: [{ name: 'pixel_values', dtype: 'float32', shape: ['batch_size', 3, 224, 224] }],
  outputs: [{ name: 'image_embeds', dtype: 'float32', shape: ['batch_size', 512] }],
};

const CLIP_TEXT: ExportModelEntry = {
  id: 'clip-vit-b32-text',
  model_name: 'Xenova/clip-vit-base-patch32',
  model_version: 'd15189d7028b2a1f2f2b5e3f1e0c6e9a1d2b3c4d',
  engine: 'onnx',
  files: [{ name: 'text_model.onnx', sha256: null }],
  inputs: [{ name: 'input_ids', dtype: 'int64', shape: ['batch_size', 'sequence_length'] }],
  outputs: [{ name: 'text_embeds', dtype: 'float32', shape: ['batch_size', 512] }],
};

const YOLOX: ExportModelEntry = {
  id: 'yolox-nano',
  model_name: 'Kazuhito00/Image-Processing-Node-Editor',
  model_version: '46979d5b8eacb181abe970e4dd18e8f4cf0e750b',
  engine: 'onnx',
  files: [{ name: 'yolox_nano.onnx' }],
  inputs: [{ name: 'images', dtype: 'float32', shape: [1, 3, 416, 416] }],
  outputs: [{ name: 'output', dtype: 'float32', shape: [1, 3549, 85] }],
};

const VOCAB: ExportModelEntry = {
  id: 'clip-bpe-vocab',
  model_name: 'openai/CLIP',
  model_version: 'd05afc436d78f1c48dc0dbf8e5980a9d471f35f6',
  engine: 'vocab',
  files: [{ name: 'bpe_simple_vocab_16e6.txt.gz' }],
  inputs: [],
  outputs: [],
};

/**
 * A minimal reader of protobuf text format (what config.pbtxt is): messages, lists, strings, numbers, enums and
 * comments. Every field becomes a list of its values. Enough to show the file parses and to read it back.
 */
type PbValue = string | number | PbMessage | PbValue[];
interface PbMessage {
  [field: string]: PbValue[];
}
function parsePbtxt(text: string): PbMessage {
  const tokens = text.replace(/#[^\n]*/g, '').match(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[{}[\]:,]/g) ?? [];
  const rest = text.replace(/#[^\n]*/g, '').replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[{}[\]:,]|\s/g, '');
  if (rest !== '') throw new Error(`stray characters: ${rest}`);
  let at = 0;
  const peek = (): string | undefined => tokens[at];
  const take = (expected?: string): string => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) throw new Error(`expected ${expected ?? 'a token'}, got ${token} at ${at}`);
    return token;
  };
  const scalar = (token: string): string | number => (token.startsWith('"') ? (JSON.parse(token) as string) : /^-?\d/.test(token) ? Number(token) : token);
  const value = (): PbValue => {
    const token = take();
    if (token === '{') return message('}');
    if (token === '[') {
      const items: PbValue[] = [];
      while (peek() !== ']') {
        items.push(value());
        if (peek() === ',') take(',');
      }
      take(']');
      return items;
    }
    return scalar(token);
  };
  const message = (end: string | undefined): PbMessage => {
    const out: PbMessage = {};
    while (peek() !== end) {
      const field = take();
      if (!/^[A-Za-z_]/.test(field)) throw new Error(`expected a field name, got ${field}`);
      if (peek() === ':') take(':');
      const parsed = value();
      (out[field] ??= []).push(...(Array.isArray(parsed) ? parsed : [parsed]));
    }
    if (end !== undefined) take(end);
    return out;
  };
  return message(undefined);
}

describe('config.pbtxt', () => {
  it('golden text for the CLIP image encoder: batching, dims without the batch dimension, GPU instances', () => {
    const text = modelConfigText({ name: 'clip_image', inputs: CLIP_IMAGE.inputs, outputs: CLIP_IMAGE.outputs, maxBatchSize: 16, kind: 'gpu', instanceCount: 1 });
    expect(text).toBe(
      [
        'name: "clip_image"',
        'platform: "onnxruntime_onnx"',
        'max_batch_size: 16',
        'version_policy: { all { } }',
        'input [',
        '  {',
        '    name: "pixel_values"',
        '    data_type: TYPE_FP32',
        '    dims: [ 3, 224, 224 ]',
        '  }',
        ']',
        'output [',
        '  {',
        '    name: "image_embeds"',
        '    data_type: TYPE_FP32',
        '    dims: [ 512 ]',
        '  }',
        ']',
        'instance_group [',
        '  {',
        '    count: 1',
        '    kind: KIND_GPU',
        '  }',
        ']',
        'dynamic_batching { }',
        '',
      ].join('\n'),
    );
    const parsed = parsePbtxt(text);
    expect(parsed.platform).toEqual(['onnxruntime_onnx']);
    expect(parsed.max_batch_size).toEqual([16]);
    expect(parsed.input).toEqual([{ name: ['pixel_values'], data_type: ['TYPE_FP32'], dims: [3, 224, 224] }]);
    expect(parsed.instance_group).toEqual([{ count: [1], kind: ['KIND_GPU'] }]);
    expect(parsed.dynamic_batching).toEqual([{}]);
  });

  it('a fixed batch of 1 is not batched; symbolic dims are -1; int64 is TYPE_INT64; CPU instances', () => {
    const yolox = parsePbtxt(modelConfigText({ name: 'yolox-nano', inputs: YOLOX.inputs, outputs: YOLOX.outputs, maxBatchSize: 16, kind: 'cpu', instanceCount: 2 }));
    expect(yolox.max_batch_size).toEqual([0]);
    expect(yolox.input).toEqual([{ name: ['images'], data_type: ['TYPE_FP32'], dims: [1, 3, 416, 416] }]);
    expect(yolox.output).toEqual([{ name: ['output'], data_type: ['TYPE_FP32'], dims: [1, 3549, 85] }]);
    expect(yolox.instance_group).toEqual([{ count: [2], kind: ['KIND_CPU'] }]);
    expect(yolox.dynamic_batching).toBeUndefined();
    const text = parsePbtxt(modelConfigText({ name: 'clip_text', inputs: CLIP_TEXT.inputs, outputs: CLIP_TEXT.outputs, maxBatchSize: 32, kind: 'gpu', instanceCount: 1 }));
    expect(text.max_batch_size).toEqual([32]);
    expect(text.input).toEqual([{ name: ['input_ids'], data_type: ['TYPE_INT64'], dims: [-1] }]);
    // a per-item scalar output of a batching model: [1] reshaped to []
    const scalar = parsePbtxt(
      modelConfigText({ name: 's', inputs: [{ name: 'x', dtype: 'float16', shape: ['b', 4] }], outputs: [{ name: 'y', dtype: 'bool', shape: ['b'] }], maxBatchSize: 8, kind: 'gpu', instanceCount: 1 }),
    );
    expect(scalar.output).toEqual([{ name: ['y'], data_type: ['TYPE_BOOL'], dims: [1], reshape: [{ shape: [] }] }]);
    expect(scalar.input).toEqual([{ name: ['x'], data_type: ['TYPE_FP16'], dims: [4] }]);
    // max_batch_size 0 turns batching off
    expect(parsePbtxt(modelConfigText({ name: 'c', inputs: CLIP_IMAGE.inputs, outputs: CLIP_IMAGE.outputs, maxBatchSize: 0, kind: 'gpu', instanceCount: 1 })).input).toEqual([
      { name: ['pixel_values'], data_type: ['TYPE_FP32'], dims: [-1, 3, 224, 224] },
    ]);
    expect(() => modelConfigText({ name: 'c', inputs: [{ name: 'x', dtype: 'complex64', shape: [1] }], outputs: YOLOX.outputs, maxBatchSize: 0, kind: 'gpu', instanceCount: 1 })).toThrow(
      /complex64/,
    );
  });
});

describe('exportTritonRepo', () => {
  async function modelsDirWithClip(): Promise<{ modelsDir: string; onnx: Uint8Array; entries: ExportModelEntry[] }> {
    const modelsDir = await tmp();
    const onnx = makeClipImageModel({ size: 32, dim: 16, patch: 8 });
    await fs.mkdir(path.join(modelsDir, CLIP_IMAGE.id));
    await fs.writeFile(path.join(modelsDir, CLIP_IMAGE.id, 'vision_model.onnx'), onnx);
    const clip: ExportModelEntry = {
      ...CLIP_IMAGE,
      files: [{ name: 'vision_model.onnx', sha256: sha256(onnx) }],
      inputs: [{ name: 'pixel_values', dtype: 'float32', shape: ['batch_size', 3, 32, 32] }],
      outputs: [{ name: 'image_embeds', dtype: 'float32', shape: ['batch_size', 16] }],
    };
    return { modelsDir, onnx, entries: [clip, VOCAB] };
  }

  it('writes <name>/<version>/model.onnx and <name>/config.pbtxt; the repository serves and infers', async () => {
    const { modelsDir, onnx, entries } = await modelsDirWithClip();
    const outDir = path.join(await tmp(), 'repo');
    const result = await exportTritonRepo(entries, modelsDir, outDir, { names: { [CLIP_IMAGE.id]: 'clip_image' }, maxBatchSize: 8 });
    expect(result.skipped).toEqual([{ id: 'clip-bpe-vocab', reason: 'engine vocab is not served by Triton' }]);
    expect(result.models).toEqual([
      {
        id: CLIP_IMAGE.id,
        tritonName: 'clip_image',
        version: 1,
        modelPath: path.join(outDir, 'clip_image', '1', 'model.onnx'),
        configPath: path.join(outDir, 'clip_image', 'config.pbtxt'),
        placed: 'hardlink',
        maxBatchSize: 8,
        sha256: sha256(onnx),
      },
    ]);
    // the layout Triton expects, and nothing else
    expect((await fs.readdir(outDir)).sort()).toEqual(['clip_image']);
    expect((await fs.readdir(path.join(outDir, 'clip_image'))).sort()).toEqual(['1', 'config.pbtxt']);
    expect(await fs.readdir(path.join(outDir, 'clip_image', '1'))).toEqual(['model.onnx']);
    expect(Buffer.from(await fs.readFile(path.join(outDir, 'clip_image', '1', 'model.onnx'))).equals(Buffer.from(onnx))).toBe(true);
    const config = await fs.readFile(path.join(outDir, 'clip_image', 'config.pbtxt'), 'utf8');
    expect(config.split('\n').slice(0, 3)).toEqual([
      '# Written by `trendflow triton export-repo` from the TrendFlow model registry.',
      `# registry id: clip-vit-b32-image; model_name: Xenova/clip-vit-base-patch32; model_version: ${CLIP_IMAGE.model_version}`,
      `# vision_model.onnx sha256: ${sha256(onnx)} (${onnx.byteLength} bytes) -> 1/model.onnx`,
    ]);
    const parsed = parsePbtxt(config);
    expect(parsed).toMatchObject({ name: ['clip_image'], max_batch_size: [8], input: [{ dims: [3, 32, 32] }], output: [{ dims: [16] }] });

    // a second export of the same file changes nothing; a new version folder sits beside the first
    const again = await exportTritonRepo(entries, modelsDir, outDir, { names: { [CLIP_IMAGE.id]: 'clip_image' }, maxBatchSize: 8 });
    expect(again.models[0]!.placed).toBe('unchanged');
    const copied = await exportTritonRepo(entries, modelsDir, outDir, { ids: [CLIP_IMAGE.id], names: { [CLIP_IMAGE.id]: 'clip_image' }, version: 2, link: 'copy' });
    expect(copied.models[0]!.placed).toBe('copy');
    expect((await fs.readdir(path.join(outDir, 'clip_image'))).sort()).toEqual(['1', '2', 'config.pbtxt']);

    // what a Triton would load from the repository answers like the file run in-process
    const server = await startKServeServer({ models: [{ name: 'clip_image', version: '2', onnx: path.join(outDir, 'clip_image', '2', 'model.onnx') }] });
    const client = new TritonClient({ url: server.url, retries: 0 });
    const session = await ort.InferenceSession.create(onnx);
    try {
      const input = Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i));
      const served = await client.infer('clip_image', '2', [{ name: 'pixel_values', datatype: 'FP32', shape: [2, 3, 32, 32], data: input }], ['image_embeds']);
      const local = await session.run({ pixel_values: new ort.Tensor('float32', input, [2, 3, 32, 32]) });
      expect(Array.from(served.get('image_embeds')!.data as Float32Array)).toEqual(Array.from(local.image_embeds!.data as Float32Array));
    } finally {
      client.close();
      await server.close();
      await session.release();
    }
  });

  it('exports a real model from ../shared/models (copied where it cannot be linked)', async () => {
    const outDir = await tmp();
    const source = sharedModel('yolox-nano', 'yolox_nano.onnx');
    const bytes = await fs.readFile(source);
    const result = await exportTritonRepo([YOLOX], path.dirname(path.dirname(source)), outDir);
    expect(result.models[0]).toMatchObject({ tritonName: 'yolox-nano', version: 1, maxBatchSize: 0, sha256: sha256(bytes) });
    expect(['hardlink', 'copy']).toContain(result.models[0]!.placed);
    expect(Buffer.from(await fs.readFile(path.join(outDir, 'yolox-nano', '1', 'model.onnx'))).equals(bytes)).toBe(true);
    expect(parsePbtxt(await fs.readFile(path.join(outDir, 'yolox-nano', 'config.pbtxt'), 'utf8'))).toMatchObject({
      max_batch_size: [0],
      input: [{ name: ['images'], dims: [1, 3, 416, 416] }],
      instance_group: [{ kind: ['KIND_GPU'] }],
    });
  });

  it('refuses missing or corrupt files and bad requests before writing anything', async () => {
    const { modelsDir, entries } = await modelsDirWithClip();
    const outDir = path.join(await tmp(), 'repo');
    const code = async (promise: Promise<unknown>): Promise<string> => {
      try {
        await promise;
      } catch (error) {
        expect(error).toBeInstanceOf(TrendflowError);
        return (error as TrendflowError).code;
      }
      throw new Error('expected a rejection');
    };
    // the text encoder is not in the models dir: nothing is written, the image encoder included
    expect(await code(exportTritonRepo([...entries, CLIP_TEXT], modelsDir, outDir))).toBe('model_not_found');
    await expect(fs.stat(outDir)).rejects.toThrow();
    const corrupt = { ...entries[0]!, files: [{ name: 'vision_model.onnx', sha256: '0'.repeat(64) }] };
    expect(await code(exportTritonRepo([corrupt], modelsDir, outDir))).toBe('model_digest_mismatch');
    expect(await code(exportTritonRepo(entries, modelsDir, outDir, { ids: ['clip-bpe-vocab'] }))).toBe('invalid_argument');
    expect(await code(exportTritonRepo(entries, modelsDir, outDir, { ids: ['nope'] }))).toBe('model_unknown');
    expect(await code(exportTritonRepo(entries, modelsDir, outDir, { names: { [CLIP_IMAGE.id]: 'bad/name' } }))).toBe('invalid_argument');
    expect(await code(exportTritonRepo(entries, modelsDir, outDir, { version: 0 }))).toBe('invalid_argument');
    expect(await code(exportTritonRepo([VOCAB], modelsDir, outDir))).toBe('invalid_argument');
    await expect(fs.stat(outDir)).rejects.toThrow();
  });
});
