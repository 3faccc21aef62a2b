/**
 * A small KServe v2 (Triton-compatible) HTTP server for tests: it runs real ONNX models with onnxruntime-node on
 * the CPU and speaks the protocol the client uses, JSON and the binary tensor data extension both, with Triton's
 * statuses and error texts for unknown and unavailable models. Listens on 127.0.0.1, on a random port.
 *
 * Endpoints: GET /v2, /v2/health/live, /v2/health/ready, /v2/models/{name}[/versions/{v}], …/ready;
 * POST …/infer and /v2/repository/index.
 *
 * Fault injection: `failNext(n, fault)` makes the next n matching requests answer a status (503 by default), wait,
 * or drop the connection; a model can be listed but not ready (`ready: false`, with a reason); `close()` stops it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ort from 'onnxruntime-node';
import {
  bytesToData,
  isKServeDatatype,
  isValidShape,
  jsonDataToData,
  tensorToBytes,
  tensorToJsonData,
  type KServeDatatype,
  type NumericTensorData,
  type Tensor,
} from '../../core/runtime/triton/tensors.js';

export interface KServeModelSpec {
  name: string;
  /** Default "1". */
  version?: string;
  /** ONNX bytes or a file path; needed unless the model is not ready. */
  onnx?: Uint8Array | string;
  /** Default true. A model that is not ready is listed by the repository index as UNAVAILABLE with `reason`. */
  ready?: boolean;
  reason?: string;
}

export interface Fault {
  /** Answer this status (default 503 unless `reset` or only `delayMs` is given). */
  status?: number;
  /** The `error` text of the answer. */
  error?: string;
  /** A Retry-After header. */
  retryAfter?: string;
  /** Wait this long first; alone, the request is then served normally. */
  delayMs?: number;
  /** Drop the connection without answering. */
  reset?: boolean;
  /** Only requests whose path contains this (e.g. "/infer"); default every request. */
  pathIncludes?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  /** 0 when the connection was dropped. */
  status: number;
  /** Whether the request carried the binary extension header. */
  binary: boolean;
}

export interface KServeTestServer {
  url: string;
  port: number;
  requests: RequestRecord[];
  /** How many requests (of a method, whose path contains `pathIncludes`) arrived. */
  count(pathIncludes: string, method?: string): number;
  failNext(count: number, fault?: Fault): void;
  setModelReady(name: string, version: string, ready: boolean, reason?: string): void;
  /** The server's own readiness (GET /v2/health/ready). */
  serverReady: boolean;
  close(): Promise<void>;
}

interface Served {
  name: string;
  version: string;
  ready: boolean;
  reason: string;
  session?: ort.InferenceSession;
}

const ORT_TO_KSERVE: Record<string, KServeDatatype> = {
  float32: 'FP32',
  float16: 'FP16',
  float64: 'FP64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};
const KSERVE_TO_ORT = Object.fromEntries(Object.entries(ORT_TO_KSERVE).map(([ortType, kserve]) => [kserve, ortType])) as Record<KServeDatatype, string>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function tensorMetadata(session: ort.InferenceSession, which: 'input' | 'output'): { name: string; datatype: KServeDatatype; shape: number[] }[] {
  const metadata = which === 'input' ? session.inputMetadata : session.outputMetadata;
  return metadata.map((item) => {
    if (!item.isTensor) throw new Error(`${item.name} is not a tensor`);
    return {
      name: item.name,
      datatype: ORT_TO_KSERVE[item.type] ?? 'FP32',
      shape: item.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1)),
    };
  });
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startKServeServer(options: { models: KServeModelSpec[] }): Promise<KServeTestServer> {
  const models: Served[] = [];
  for (const spec of options.models) {
    const ready = spec.ready ?? true;
    const served: Served = { name: spec.name, version: spec.version ?? '1', ready, reason: spec.reason ?? '' };
    if (spec.onnx !== undefined) {
      served.session =
        typeof spec.onnx === 'string' ? await ort.InferenceSession.create(spec.onnx) : await ort.InferenceSession.create(spec.onnx);
    } else if (ready) {
      throw new Error(`model ${spec.name}: a ready model needs its ONNX`);
    }
    models.push(served);
  }
  const faults: (Fault & { remaining: number })[] = [];
  const requests: RequestRecord[] = [];
  const state = { serverReady: true };

  /** Triton's rules: no version → the newest ready one; an unknown name or version → 404; not ready → 503/404. */
  function findModel(name: string, version: string | undefined): Served {
    const named = models.filter((model) => model.name === name);
    if (named.length === 0) throw new HttpError(404, `Request for unknown model: '${name}' is not found`);
    if (version !== undefined) {
      const found = named.find((model) => model.version === version);
      if (!found) throw new HttpError(404, `Request for unknown model: '${name}' version ${version} is not found`);
      if (!found.ready) throw new HttpError(503, `Request for unknown model: '${name}' version ${version} is not at ready state`);
      return found;
    }
    const ready = named.filter((model) => model.ready).sort((a, b) => Number(b.version) - Number(a.version));
    if (ready.length === 0) throw new HttpError(404, `Request for unknown model: '${name}' has no available versions`);
    return ready[0]!;
  }

  function metadataOf(model: Served): unknown {
    return {
      name: model.name,
      versions: models.filter((other) => other.name === model.name).map((other) => other.version),
      platform: 'onnxruntime_onnx',
      inputs: tensorMetadata(model.session!, 'input'),
      outputs: tensorMetadata(model.session!, 'output'),
    };
  }

  async function infer(model: Served, headers: http.IncomingHttpHeaders, body: Buffer): Promise<{ json: unknown; blobs: Uint8Array[] }> {
    const session = model.session!;
    const headerLength = headers['inference-header-content-length'];
    const jsonLength = headerLength === undefined ? body.byteLength : Number(headerLength);
    if (!Number.isSafeInteger(jsonLength) || jsonLength > body.byteLength) throw new HttpError(400, 'bad Inference-Header-Content-Length');
    let request: { inputs?: unknown; outputs?: unknown; parameters?: { binary_data_output?: boolean } };
    try {
      request = JSON.parse(body.subarray(0, jsonLength).toString('utf8')) as typeof request;
    } catch {
      throw new HttpError(400, 'failed to parse the request JSON buffer');
    }
    const binary = body.subarray(jsonLength);
    if (!Array.isArray(request.inputs)) throw new HttpError(400, 'missing "inputs" in the request');
    const expected = tensorMetadata(session, 'input');
    if (request.inputs.length !== expected.length) {
      throw new HttpError(400, `expected ${expected.length} inputs but got ${request.inputs.length} inputs for model '${model.name}'`);
    }
    const feeds: Record<string, ort.Tensor> = {};
    let offset = 0;
    for (const raw of request.inputs as Record<string, unknown>[]) {
      const name = String(raw.name);
      const spec = expected.find((item) => item.name === name);
      if (!spec) throw new HttpError(400, `unexpected inference input '${name}' for model '${model.name}'`);
      const { datatype, shape } = raw;
      if (!isKServeDatatype(datatype)) throw new HttpError(400, `invalid datatype for input '${name}'`);
      if (datatype !== spec.datatype) {
        throw new HttpError(400, `inference input '${name}' data-type is '${datatype}', but model '${model.name}' expects '${spec.datatype}'`);
      }
      if (!isValidShape(shape) || shape.length !== spec.shape.length || shape.some((dim, i) => spec.shape[i] !== -1 && spec.shape[i] !== dim)) {
        throw new HttpError(
          400,
          `unexpected shape for input '${name}' for model '${model.name}'. Expected [${spec.shape.join(',')}], got [${String(shape)}]`,
        );
      }
      let data: NumericTensorData | Uint8Array[];
      try {
        const size = (raw.parameters as { binary_data_size?: number } | undefined)?.binary_data_size;
        if (size !== undefined) {
          data = bytesToData(datatype, shape, binary.subarray(offset, offset + size));
          offset += size;
        } else {
          data = jsonDataToData(datatype, shape, raw.data);
        }
      } catch (error) {
        throw new HttpError(400, `input '${name}': ${(error as Error).message}`);
      }
      const ortData = datatype === 'BYTES' ? (data as Uint8Array[]).map((item) => Buffer.from(item).toString('utf8')) : (data as NumericTensorData);
      feeds[name] = new ort.Tensor(KSERVE_TO_ORT[datatype] as 'float32', ortData as Float32Array, shape);
    }
    if (offset !== binary.byteLength) throw new HttpError(400, 'unexpected additional input data');

    const available = tensorMetadata(session, 'output').map((item) => item.name);
    const requested = Array.isArray(request.outputs)
      ? (request.outputs as { name: string; parameters?: { binary_data?: boolean } }[])
      : available.map((name) => ({ name, parameters: {} as { binary_data?: boolean } }));
    for (const output of requested) {
      if (!available.includes(output.name)) throw new HttpError(400, `unexpected inference output '${output.name}' for model '${model.name}'`);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await session.run(feeds, requested.map((output) => output.name));
    } catch (error) {
      throw new HttpError(500, (error as Error).message);
    }
    const blobs: Uint8Array[] = [];
    const outputs = requested.map((output) => {
      const tensor = results[output.name] as ort.Tensor;
      const datatype = ORT_TO_KSERVE[tensor.type]!;
      const shape = [...tensor.dims];
      const value: Tensor = { datatype, shape, data: tensor.data as NumericTensorData };
      const asBinary = output.parameters?.binary_data ?? request.parameters?.binary_data_output ?? false;
      if (asBinary) {
        const bytes = tensorToBytes(value);
        blobs.push(bytes);
        return { name: output.name, datatype, shape, parameters: { binary_data_size: bytes.byteLength } };
      }
      return { name: output.name, datatype, shape, data: tensorToJsonData(output.name, value) };
    });
    return { json: { model_name: model.name, model_version: model.version, outputs }, blobs };
  }

  async function route(method: string, path: string, headers: http.IncomingHttpHeaders, body: Buffer): Promise<{ status: number; json?: unknown; blobs?: Uint8Array[] }> {
    if (method === 'GET' && path === '/v2/health/live') return { status: 200 };
    if (method === 'GET' && path === '/v2/health/ready') return { status: state.serverReady ? 200 : 400 };
    if (method === 'GET' && path === '/v2') {
      return { status: 200, json: { name: 'kserve-test', version: '0.0.0', extensions: ['binary_tensor_data', 'model_repository'] } };
    }
    if (method === 'POST' && path === '/v2/repository/index') {
      return {
        status: 200,
        json: models.map((model) => ({ name: model.name, version: model.version, state: model.ready ? 'READY' : 'UNAVAILABLE', reason: model.reason })),
      };
    }
    const match = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(path);
    if (!match) throw new HttpError(404, 'Not Found');
    const name = decodeURIComponent(match[1]!);
    const version = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const action = match[3];
    if (action === '/ready' && method === 'GET') {
      try {
        findModel(name, version);
        return { status: 200 };
      } catch {
        return { status: 400 };
      }
    }
    if (action === undefined && method === 'GET') return { status: 200, json: metadataOf(findModel(name, version)) };
    if (action === '/infer' && method === 'POST') {
      const { json, blobs } = await infer(findModel(name, version), headers, body);
      return { status: 200, json, blobs };
    }
    throw new HttpError(405, `${method} is not allowed on ${path}`);
  }

  const server = http.createServer((request, response) => {
    void (async () => {
      const method = request.method ?? 'GET';
      const path = (request.url ?? '/').split('?')[0]!;
      const record: RequestRecord = { method, path, status: 0, binary: request.headers['inference-header-content-length'] !== undefined };
      requests.push(record);
      const body = await readBody(request);
      const fault = faults.find((candidate) => candidate.remaining > 0 && (!candidate.pathIncludes || path.includes(candidate.pathIncludes)));
      if (fault) {
        fault.remaining -= 1;
        if (fault.delayMs) await sleep(fault.delayMs);
        if (fault.reset) {
          request.socket.destroy();
          return;
        }
        if (fault.status !== undefined || !fault.delayMs) {
          const status = fault.status ?? 503;
          record.status = status;
          const headers: Record<string, string> = { 'Content-Type': 'application/json' };
          if (fault.retryAfter) headers['Retry-After'] = fault.retryAfter;
          response.writeHead(status, headers).end(JSON.stringify({ error: fault.error ?? 'Service Unavailable' }));
          return;
        }
      }
      if (response.destroyed) return;
      let answer: { status: number; json?: unknown; blobs?: Uint8Array[] };
      try {
        answer = await route(method, path, request.headers, body);
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 500;
        answer = { status, json: { error: (error as Error).message } };
      }
      record.status = answer.status;
      if (response.destroyed) return;
      const json = Buffer.from(answer.json === undefined ? '' : JSON.stringify(answer.json), 'utf8');
      if (answer.blobs && answer.blobs.length > 0) {
        response.writeHead(answer.status, {
          'Content-Type': 'application/octet-stream',
          'Inference-Header-Content-Length': String(json.byteLength),
          'Content-Length': String(json.byteLength + answer.blobs.reduce((sum, blob) => sum + blob.byteLength, 0)),
        });
        response.write(json);
        for (const blob of answer.blobs) response.write(blob);
        response.end();
      } else {
        response.writeHead(answer.status, { 'Content-Type': 'application/json', 'Content-Length': String(json.byteLength) }).end(json);
      }
    })().catch(() => {
      response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    count: (pathIncludes, method) => requests.filter((record) => record.path.includes(pathIncludes) && (!method || record.method === method)).length,
    failNext(count, fault = {}) {
      faults.push({ ...fault, remaining: count });
    },
    setModelReady(name, version, ready, reason = '') {
      const model = models.find((candidate) => candidate.name === name && candidate.version === version);
      if (!model) throw new Error(`no model ${name} version ${version}`);
      if (ready && !model.session) throw new Error(`model ${name} has no ONNX to serve`);
      model.ready = ready;
      model.reason = reason;
    },
    get serverReady() {
      return state.serverReady;
    },
    set serverReady(value: boolean) {
      state.serverReady = value;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all(models.map((model) => model.session?.release()));
    },
  };
}
