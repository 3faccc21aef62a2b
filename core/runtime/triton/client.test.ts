import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrendflowError } from '../../contracts/errors.js';
import { makeClipImageModel, makeClipTextModel } from '../../../test/helpers/onnx-models.js';
import { startKServeServer, type KServeTestServer } from '../../../test/helpers/kserve-server.js';
import { TritonClient, type RetryEvent, type TritonClientOptions } from './client.js';
import { checkModelAgainstRef, tritonModelRef, validateTritonModelMapping } from './mapping.js';

const SIZE = 32;
const DIM = 16;
const CONTEXT = 77;
const VOCAB = 1000;

/** Small, fast retry settings: the retry logic is the same, the waits are milliseconds. */
const FAST: Omit<TritonClientOptions, 'url'> = { retries: 3, retryBaseDelayMs: 2, retryMaxDelayMs: 10, connectTimeoutMs: 1000, requestTimeoutMs: 5000 };

let server: KServeTestServer;
let imageSession: ort.InferenceSession;
let textSession: ort.InferenceSession;
const clients: TritonClient[] = [];

function client(options: Partial<TritonClientOptions> = {}): TritonClient {
  const made = new TritonClient({ url: server.url, ...FAST, ...options });
  clients.push(made);
  return made;
}

function pixels(batch: number, seed: number): Float32Array {
  const data = new Float32Array(batch * 3 * SIZE * SIZE);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[i] = (state / 2 ** 32) * 4 - 2;
  }
  return data;
}

function tokens(batch: number): BigInt64Array {
  const data = new BigInt64Array(batch * CONTEXT);
  for (let b = 0; b < batch; b++) {
    data[b * CONTEXT] = 1n;
    for (let t = 1; t < 6 + b; t++) data[b * CONTEXT + t] = BigInt((b * 37 + t * 101) % VOCAB);
  }
  return data;
}

async function inProcess(session: ort.InferenceSession, type: 'float32' | 'int64', data: Float32Array | BigInt64Array, shape: number[]): Promise<Float32Array> {
  const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor(type, data, shape) });
  return result[session.outputNames[0]!]!.data as Float32Array;
}

function bytesOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

async function rejection(promise: Promise<unknown>): Promise<TrendflowError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TrendflowError);
    return error as TrendflowError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  const image = makeClipImageModel({ size: SIZE, dim: DIM, patch: 8 });
  const text = makeClipTextModel({ dim: DIM, vocabSize: VOCAB });
  imageSession = await ort.InferenceSession.create(image);
  textSession = await ort.InferenceSession.create(text);
  server = await startKServeServer({
    models: [
      { name: 'clip_image', version: '1', onnx: image },
      { name: 'clip_text', version: '1', onnx: text },
      { name: 'broken', version: '1', ready: false, reason: 'failed to load model: Protobuf parsing failed' },
      { name: 'too_big', version: '1', ready: false, reason: 'CUDA error: out of memory' },
    ],
  });
});

afterAll(async () => {
  for (const made of clients) made.close();
  await server?.close();
  await imageSession?.release();
  await textSession?.release();
});

describe('TritonClient against a KServe v2 server', () => {
  it('reports server and model health and model metadata', async () => {
    const triton = client();
    expect(await triton.serverLive()).toBe(true);
    expect(await triton.serverReady()).toBe(true);
    expect(await triton.modelReady('clip_image', '1')).toBe(true);
    expect(await triton.modelReady('clip_image')).toBe(true);
    expect(await triton.modelReady('nope')).toBe(false);
    expect(await triton.modelReady('broken', 1)).toBe(false);
    const metadata = await triton.modelMetadata('clip_image', '1');
    expect(metadata).toMatchObject({
      name: 'clip_image',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'pixel_values', datatype: 'FP32', shape: [-1, 3, SIZE, SIZE] }],
      outputs: [{ name: 'image_embeds', datatype: 'FP32', shape: [-1, DIM] }],
    });
    expect(await triton.ensureModelReady('clip_text', '1')).toMatchObject({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [-1, CONTEXT] }] });
    const index = await triton.repositoryIndex();
    expect(index).toContainEqual({ name: 'broken', version: '1', state: 'UNAVAILABLE', reason: 'failed to load model: Protobuf parsing failed' });
    server.serverReady = false;
    try {
      expect(await triton.serverReady()).toBe(false);
      const error = await rejection(triton.ensureModelReady('clip_image', '1'));
      expect(error.code).toBe('triton_unavailable');
      expect(error.message).toContain('live but not ready');
    } finally {
      server.serverReady = true;
    }
  });

  it.each([true, false])('infers bit-identically to in-process onnxruntime (binary %s), image FP32 and text INT64', async (binary) => {
    const triton = client();
    const before = server.requests.length;
    for (const batch of [1, 5]) {
      const input = pixels(batch, 7 + batch);
      const expected = await inProcess(imageSession, 'float32', input, [batch, 3, SIZE, SIZE]);
      const result = await triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [batch, 3, SIZE, SIZE], data: input }], ['image_embeds'], { binary });
      const output = result.get('image_embeds')!;
      expect(output.datatype).toBe('FP32');
      expect(output.shape).toEqual([batch, DIM]);
      expect(output.data).toBeInstanceOf(Float32Array);
      expect(bytesOf(output.data as Float32Array).equals(bytesOf(expected))).toBe(true);
    }
    const ids = tokens(3);
    const expectedText = await inProcess(textSession, 'int64', ids, [3, CONTEXT]);
    const text = await triton.infer('clip_text', 1, [{ name: 'input_ids', datatype: 'INT64', shape: [3, CONTEXT], data: ids }], ['text_embeds'], { binary });
    expect(text.get('text_embeds')!.shape).toEqual([3, DIM]);
    expect(bytesOf(text.get('text_embeds')!.data as Float32Array).equals(bytesOf(expectedText))).toBe(true);
    // all outputs when none are named; no version: the server's newest
    const all = await triton.infer('clip_text', undefined, [{ name: 'input_ids', datatype: 'INT64', shape: [3, CONTEXT], data: ids }], [], { binary });
    expect([...all.keys()]).toEqual(['text_embeds']);
    const infers = server.requests.slice(before).filter((record) => record.path.endsWith('/infer'));
    expect(infers).toHaveLength(4);
    expect(infers.every((record) => record.binary === binary && record.status === 200)).toBe(true);
  });

  it('unknown model or version → model_not_found, not retried; the message names URL, model and version', async () => {
    const triton = client();
    const before = server.count('/v2/models/nope/');
    const input = { name: 'pixel_values', datatype: 'FP32' as const, shape: [1, 3, SIZE, SIZE], data: pixels(1, 1) };
    const error = await rejection(triton.infer('nope', '1', [input], ['image_embeds']));
    expect(error.code).toBe('model_not_found');
    expect(error.message).toContain(server.url);
    expect(error.message).toContain("model 'nope' version 1");
    expect(error.message).toContain('clip_image'); // what the repository does hold
    expect(server.count('/v2/models/nope/')).toBe(before + 1);
    const version = await rejection(triton.infer('clip_image', '7', [input], ['image_embeds']));
    expect(version.code).toBe('model_not_found');
    expect(version.message).toContain('version 7 is not in the repository');
    expect((await rejection(triton.modelMetadata('nope'))).code).toBe('model_not_found');
    expect((await rejection(triton.ensureModelReady('nope', '1'))).code).toBe('model_not_found');
    expect(triton.stats.retries).toBe(0);
  });

  it('a model listed but not ready → model_load_failed with the reason; out of memory → insufficient_gpu_memory', async () => {
    const triton = client();
    const input = { name: 'x', datatype: 'FP32' as const, shape: [1], data: new Float32Array(1) };
    const ready = await rejection(triton.ensureModelReady('broken', '1'));
    expect(ready.code).toBe('model_load_failed');
    expect(ready.message).toContain('Protobuf parsing failed');
    // Triton answers 404 "has no available versions" without a version, 503 "not at ready state" with one
    const unversioned = await rejection(triton.infer('broken', undefined, [input], []));
    expect(unversioned.code).toBe('model_load_failed');
    const versioned = await rejection(triton.infer('broken', '1', [input], []));
    expect(versioned.code).toBe('model_load_failed');
    expect(versioned.message).toContain("model 'broken' version 1");
    expect((await rejection(triton.ensureModelReady('too_big', '1'))).code).toBe('insufficient_gpu_memory');
    expect((await rejection(triton.infer('too_big', undefined, [input], []))).code).toBe('insufficient_gpu_memory');
  });

  it('a transient 503 is retried with backoff, then succeeds', async () => {
    const events: RetryEvent[] = [];
    const triton = client({ onRetry: (event) => events.push(event) });
    const before = server.count('/clip_image/versions/1/infer');
    server.failNext(2, { status: 503, pathIncludes: '/infer' });
    const input = pixels(2, 3);
    const result = await triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [2, 3, SIZE, SIZE], data: input }], ['image_embeds']);
    expect(bytesOf(result.get('image_embeds')!.data as Float32Array).equals(bytesOf(await inProcess(imageSession, 'float32', input, [2, 3, SIZE, SIZE])))).toBe(true);
    expect(server.count('/clip_image/versions/1/infer') - before).toBe(3);
    expect(triton.stats).toEqual({ requests: 3, retries: 2 });
    expect(events.map((event) => event.attempt)).toEqual([1, 2]);
    expect(events[0]!.reason).toContain('HTTP 503');
    expect(events.every((event) => event.delayMs >= 0 && event.delayMs <= 10)).toBe(true);
  });

  it('429, 502, 504 and a dropped connection are retried too; Retry-After is honoured (capped)', async () => {
    const triton = client();
    server.failNext(1, { status: 429, retryAfter: '0', pathIncludes: '/health/ready' });
    server.failNext(1, { status: 502, pathIncludes: '/health/ready' });
    server.failNext(1, { status: 504, pathIncludes: '/health/ready' });
    expect(await triton.serverReady()).toBe(true);
    expect(triton.stats.retries).toBe(3);
    server.failNext(1, { reset: true, pathIncludes: '/infer' });
    const input = { name: 'pixel_values', datatype: 'FP32' as const, shape: [1, 3, SIZE, SIZE], data: pixels(1, 5) };
    expect((await triton.infer('clip_image', '1', [input], ['image_embeds'])).get('image_embeds')!.shape).toEqual([1, DIM]);
    expect(triton.stats.retries).toBe(4);
  });

  it('503 beyond the retries → triton_unavailable after a bounded number of attempts', async () => {
    const triton = client({ retries: 2 });
    const before = server.count('/health/live');
    server.failNext(3, { status: 503, pathIncludes: '/health/live' });
    const error = await rejection(triton.serverLive());
    expect(error.code).toBe('triton_unavailable');
    expect(error.message).toContain('after 3 attempt(s)');
    expect(server.count('/health/live') - before).toBe(3);
    expect(await triton.serverLive()).toBe(true);
  });

  it('400 (bad shape, wrong datatype, unknown input) → triton_request_failed, not retried', async () => {
    const triton = client();
    const before = server.count('/clip_image/versions/1/infer');
    const badShape = await rejection(
      triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [1, 3, 16, 16], data: new Float32Array(3 * 16 * 16) }], ['image_embeds']),
    );
    expect(badShape.code).toBe('triton_request_failed');
    expect(badShape.message).toContain('unexpected shape');
    const badType = await rejection(
      triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'INT32', shape: [1, 3, SIZE, SIZE], data: new Int32Array(3 * SIZE * SIZE) }], ['image_embeds']),
    );
    expect(badType.code).toBe('triton_request_failed');
    expect(badType.message).toContain("expects 'FP32'");
    const badName = await rejection(
      triton.infer('clip_image', '1', [{ name: 'INPUT__0', datatype: 'FP32', shape: [1, 3, SIZE, SIZE], data: pixels(1, 2) }], ['image_embeds'], { binary: false }),
    );
    expect(badName.code).toBe('triton_request_failed');
    server.failNext(1, { status: 400, error: 'some bad request', pathIncludes: '/infer' });
    const injected = await rejection(
      triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [1, 3, SIZE, SIZE], data: pixels(1, 2) }], ['image_embeds']),
    );
    expect(injected.code).toBe('triton_request_failed');
    expect(injected.message).toContain('HTTP 400: some bad request');
    expect(server.count('/clip_image/versions/1/infer') - before).toBe(4);
    expect(triton.stats.retries).toBe(0);
  });

  it('a server error that says out of memory → insufficient_gpu_memory', async () => {
    const triton = client();
    server.failNext(1, { status: 500, error: 'onnx runtime error 6: CUDA failure 2: out of memory', pathIncludes: '/infer' });
    const error = await rejection(
      triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [1, 3, SIZE, SIZE], data: pixels(1, 2) }], ['image_embeds']),
    );
    expect(error.code).toBe('insufficient_gpu_memory');
    expect(triton.stats.retries).toBe(0);
  });

  it('caller mistakes are refused before anything is sent (invalid_argument)', async () => {
    const triton = client();
    const wrongArray = await rejection(
      triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [1, 3, SIZE, SIZE], data: new Float64Array(3 * SIZE * SIZE) }], []),
    );
    expect(wrongArray.code).toBe('invalid_argument');
    const wrongCount = await rejection(triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [2, 3, SIZE, SIZE], data: pixels(1, 1) }], []));
    expect(wrongCount.code).toBe('invalid_argument');
    const nan = await rejection(
      triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [1], data: new Float32Array([Number.NaN]) }], [], { binary: false }),
    );
    expect(nan.code).toBe('invalid_argument');
    expect(triton.stats.requests).toBe(0);
    expect(() => new TritonClient({ url: 'triton:8000' })).toThrow(/http/);
  });

  it('a request timeout → triton_unavailable, not retried', async () => {
    const triton = client({ requestTimeoutMs: 150 });
    const before = server.count('/clip_image/versions/1/infer');
    server.failNext(1, { delayMs: 600, pathIncludes: '/infer' });
    const started = Date.now();
    const error = await rejection(
      triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [1, 3, SIZE, SIZE], data: pixels(1, 2) }], ['image_embeds']),
    );
    expect(error.code).toBe('triton_unavailable');
    expect(error.message).toContain('no answer within 150 ms');
    expect(Date.now() - started).toBeLessThan(550);
    expect(server.count('/clip_image/versions/1/infer') - before).toBe(1);
    // a per-call timeout overrides the client's
    server.failNext(1, { delayMs: 200, pathIncludes: '/infer' });
    const slowButFine = await triton.infer('clip_image', '1', [{ name: 'pixel_values', datatype: 'FP32', shape: [1, 3, SIZE, SIZE], data: pixels(1, 2) }], ['image_embeds'], { timeoutMs: 3000 });
    expect(slowButFine.get('image_embeds')!.shape).toEqual([1, DIM]);
  });

  it('checks a seed-000 mapping against the served model', async () => {
    const triton = client();
    const mapping = validateTritonModelMapping({
      runtime: 'triton',
      triton_http_url: server.url,
      triton_image_model_name: 'clip_image',
      triton_image_model_version: '1',
      triton_image_input_name: 'pixel_values',
      triton_image_output_name: 'image_embeds',
      triton_image_datatype: 'FP32',
      triton_text_model_name: 'clip_text',
      triton_text_model_version: 1,
      triton_text_input_name: 'input_ids',
      triton_text_output_name: 'text_embeds',
      triton_text_datatype: 'INT64',
      triton_preprocess_preset: 'openai_clip_224',
      batch_size: 16,
    });
    const image = tritonModelRef(mapping, 'image');
    const text = tritonModelRef(mapping, 'text');
    checkModelAgainstRef(await triton.ensureModelReady(image.model, image.version), image, [3, SIZE, SIZE]);
    checkModelAgainstRef(await triton.ensureModelReady(text.model, text.version), text, [CONTEXT]);
    // the preset says 224 but this model takes 32
    expect(() => checkModelAgainstRef({ name: 'clip_image', versions: ['1'], platform: '', inputs: [{ name: 'pixel_values', datatype: 'FP32', shape: [-1, 3, SIZE, SIZE] }], outputs: [] }, image, [3, 224, 224])).toThrow(/expected \[-1,3,224,224\]/);
    const wrongInput = { ...image, input: 'INPUT__0' };
    expect(() => checkModelAgainstRef({ name: 'clip_image', versions: ['1'], platform: '', inputs: [{ name: 'pixel_values', datatype: 'FP32', shape: [-1, 3, SIZE, SIZE] }], outputs: [] }, wrongInput)).toThrow(
      /names input 'INPUT__0'.*pixel_values FP32/,
    );
  });
});

describe('TritonClient without a server', () => {
  it('a closed port → triton_unavailable after bounded retries, quickly', async () => {
    const closed = await startKServeServer({ models: [] });
    const url = closed.url;
    await closed.close();
    const events: RetryEvent[] = [];
    const triton = new TritonClient({ url, ...FAST, onRetry: (event) => events.push(event) });
    clients.push(triton);
    const started = Date.now();
    const error = await rejection(triton.infer('clip_image', '1', [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array(1) }], []));
    expect(error.code).toBe('triton_unavailable');
    expect(error.message).toContain(url);
    expect(error.message).toContain("model 'clip_image' version 1");
    expect(error.message).toMatch(/ECONNREFUSED.*after 4 attempt\(s\)/);
    expect(events).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await rejection(triton.serverLive())).code).toBe('triton_unavailable');
  });

  it('a connection dropped in the middle of an answer is retried', async () => {
    let calls = 0;
    const fake = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        calls += 1;
        const body = JSON.stringify({ outputs: [{ name: 'y', datatype: 'INT32', shape: [2], data: [4, 5] }] });
        if (calls === 1) {
          response.writeHead(200, { 'Content-Length': String(body.length) });
          response.write(body.slice(0, 10));
          setTimeout(() => response.socket?.destroy(), 20);
        } else {
          response.writeHead(200, { 'Content-Length': String(body.length) }).end(body);
        }
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const triton = new TritonClient({ url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, ...FAST });
      clients.push(triton);
      const result = await triton.infer('m', '1', [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array(1) }], ['y']);
      expect(Array.from(result.get('y')!.data as Int32Array)).toEqual([4, 5]);
      expect(triton.stats).toEqual({ requests: 2, retries: 1 });
    } finally {
      fake.closeAllConnections();
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it('a malformed answer → triton_request_failed', async () => {
    const answers: ((response: http.ServerResponse) => void)[] = [
      (response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end('this is not json'),
      (response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ outputs: [{ name: 'y', datatype: 'FP32', shape: [2], data: [1] }] })),
      (response) => {
        const json = Buffer.from(JSON.stringify({ outputs: [{ name: 'y', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }] }));
        response.writeHead(200, { 'Inference-Header-Content-Length': String(json.byteLength) }).end(Buffer.concat([json, Buffer.alloc(4)]));
      },
      (response) => response.writeHead(200).end(JSON.stringify({ outputs: [{ name: 'other', datatype: 'FP32', shape: [1], data: [1] }] })),
      (response) => response.writeHead(200).end(JSON.stringify({ name: 'm', inputs: 'nope', outputs: [] })),
    ];
    let next = 0;
    const fake = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => answers[next++]!(response));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const triton = new TritonClient({ url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, ...FAST });
      clients.push(triton);
      const input = { name: 'x', datatype: 'FP32' as const, shape: [1], data: new Float32Array(1) };
      for (let i = 0; i < 4; i++) {
        const error = await rejection(triton.infer('m', '1', [input], ['y']));
        expect(error.code).toBe('triton_request_failed');
      }
      expect((await rejection(triton.modelMetadata('m'))).code).toBe('triton_request_failed');
    } finally {
      fake.closeAllConnections();
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});
