/**
 * A KServe v2 (Triton Inference Server) HTTP/REST client: health, model readiness and metadata, the repository
 * index, and inference with the binary tensor data extension (or plain JSON).
 *
 * Failures carry TrendFlow codes (see errors.ts and README.md): triton_unavailable, model_not_found,
 * model_load_failed, insufficient_gpu_memory, triton_request_failed. Only transient failures are retried
 * (connection refused/reset, connect timeout, 429/502/503/504), with exponential backoff and jitter, within a
 * bounded number of attempts and a time window. There is no fallback to in-process inference, here or anywhere.
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrendflowError, isTrendflowError } from '../../contracts/errors.js';
import {
  TRANSIENT_STATUSES,
  OUT_OF_MEMORY,
  codeForStatus,
  describeTarget,
  responseText,
  tritonError,
  type CallTarget,
} from './errors.js';
import { TransportError, send, type RawResponse } from './http.js';
import {
  bytesToData,
  checkTensor,
  isKServeDatatype,
  isValidShape,
  jsonDataToData,
  tensorToBytes,
  tensorToJsonData,
  type KServeDatatype,
  type OutputTensor,
  type Tensor,
} from './tensors.js';

export interface TritonClientOptions {
  /** Base URL of Triton's HTTP endpoint, e.g. `http://127.0.0.1:8000` (a path prefix is kept). */
  url: string;
  /** Time allowed to open a TCP connection; default 3000 ms. A connect timeout is retried. */
  connectTimeoutMs?: number;
  /** Time allowed for a whole request and response once sent; default 60000 ms. Not retried. */
  requestTimeoutMs?: number;
  /** Retries after the first attempt, for transient failures only; default 3 (so at most 4 attempts). */
  retries?: number;
  /** First backoff delay; default 200 ms, doubled each retry. */
  retryBaseDelayMs?: number;
  /** Cap on one backoff delay (and on a server's Retry-After); default 5000 ms. */
  retryMaxDelayMs?: number;
  /** No retry starts once this long has passed since the first attempt; default 30000 ms. */
  retryWindowMs?: number;
  /** Extra headers on every request (e.g. an auth token in front of Triton). */
  headers?: Record<string, string>;
  /** Called before each retry: what failed and how long the client waits. */
  onRetry?: (event: RetryEvent) => void;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
}

export interface RetryEvent {
  operation: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
  /** `HTTP 503: …`, or the connection failure (ECONNREFUSED…). */
  reason: string;
}

export interface TensorMetadata {
  name: string;
  datatype: KServeDatatype;
  /** -1 for a variable dimension (the batch dimension of a batching model included). */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  /** READY, UNAVAILABLE, LOADING, UNLOADING… */
  state?: string;
  reason?: string;
}

export interface InferInput extends Tensor {
  name: string;
}

export interface InferOptions {
  /** Binary tensor data extension for inputs and outputs (default true); false sends and asks for JSON `data`. */
  binary?: boolean;
  /** This call's request timeout instead of the client's. */
  timeoutMs?: number;
}

export interface ClientStats {
  /** HTTP requests sent (every attempt counts). */
  requests: number;
  /** Of those, retries after a transient failure: what a manifest records as retry_count. */
  retries: number;
}

interface Exchange {
  response: RawResponse;
  attempts: number;
}

const JSON_HEADERS = { Accept: 'application/json' };

function normalizeVersion(version: string | number | undefined): string | undefined {
  if (version === undefined || version === '') return undefined;
  const text = String(version);
  if (text.includes('/')) throw new TrendflowError('invalid_argument', `model version ${JSON.stringify(text)} must not contain '/'`);
  return text;
}

function modelPath(name: string, version: string | undefined): string {
  if (!name) throw new TrendflowError('invalid_argument', 'a Triton model name is required');
  const base = `/v2/models/${encodeURIComponent(name)}`;
  return version === undefined ? base : `${base}/versions/${encodeURIComponent(version)}`;
}

function parseTensorMetadata(value: unknown): TensorMetadata | undefined {
  const item = value as Partial<TensorMetadata> | null;
  if (!item || typeof item.name !== 'string' || !isKServeDatatype(item.datatype)) return undefined;
  if (!Array.isArray(item.shape) || !item.shape.every((dim) => Number.isSafeInteger(dim) && dim >= -1)) return undefined;
  return { name: item.name, datatype: item.datatype, shape: [...item.shape] };
}

export class TritonClient {
  readonly url: string;
  readonly stats: ClientStats = { requests: 0, retries: 0 };
  private readonly base: URL;
  /** The URL's path prefix without a trailing slash ('' for none). */
  private readonly basePath: string;
  private readonly agent: http.Agent | https.Agent;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly retries: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly retryWindowMs: number;
  private readonly random: () => number;

  constructor(private readonly options: TritonClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new TrendflowError('invalid_argument', `Triton URL ${JSON.stringify(options.url)} is not a URL (e.g. http://127.0.0.1:8000)`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TrendflowError('invalid_argument', `Triton URL ${options.url} must be http:// or https://`);
    }
    this.base = base;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.url = `${base.origin}${this.basePath}`;
    const positive = (value: number | undefined, fallback: number, name: string): number => {
      const chosen = value ?? fallback;
      if (!Number.isFinite(chosen) || chosen < 0) throw new TrendflowError('invalid_argument', `TritonClient ${name} must be a non-negative number, got ${value}`);
      return chosen;
    };
    this.connectTimeoutMs = positive(options.connectTimeoutMs, 3000, 'connectTimeoutMs');
    this.requestTimeoutMs = positive(options.requestTimeoutMs, 60_000, 'requestTimeoutMs');
    this.retries = Math.floor(positive(options.retries, 3, 'retries'));
    this.retryBaseDelayMs = positive(options.retryBaseDelayMs, 200, 'retryBaseDelayMs');
    this.retryMaxDelayMs = positive(options.retryMaxDelayMs, 5000, 'retryMaxDelayMs');
    this.retryWindowMs = positive(options.retryWindowMs, 30_000, 'retryWindowMs');
    this.random = options.random ?? Math.random;
    const agentOptions = { keepAlive: true, maxSockets: 16 };
    this.agent = base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** Closes kept-alive connections. The client must not be used afterwards. */
  close(): void {
    this.agent.destroy();
  }

  // ---- health ----

  /** GET /v2/health/live: true on 200, false on another non-transient answer; triton_unavailable if unreachable. */
  async serverLive(): Promise<boolean> {
    return this.probe({ url: this.url, operation: 'server live check of' }, '/v2/health/live');
  }

  /** GET /v2/health/ready: true on 200, false on another non-transient answer; triton_unavailable if unreachable. */
  async serverReady(): Promise<boolean> {
    return this.probe({ url: this.url, operation: 'server ready check of' }, '/v2/health/ready');
  }

  /** GET /v2/models/{name}[/versions/{v}]/ready: true on 200; false for a model that is unknown or not loaded. */
  async modelReady(name: string, version?: string | number): Promise<boolean> {
    const v = normalizeVersion(version);
    return this.probe({ url: this.url, operation: 'ready check of', model: name, version: v }, `${modelPath(name, v)}/ready`);
  }

  /** GET /v2: the server's name, version and extensions. */
  async serverMetadata(): Promise<{ name: string; version: string; extensions: string[] }> {
    const target: CallTarget = { url: this.url, operation: 'server metadata of' };
    const json = await this.getJson(target, '/v2');
    const value = json as { name?: unknown; version?: unknown; extensions?: unknown };
    return {
      name: typeof value?.name === 'string' ? value.name : '',
      version: typeof value?.version === 'string' ? value.version : '',
      extensions: Array.isArray(value?.extensions) ? value.extensions.filter((item): item is string => typeof item === 'string') : [],
    };
  }

  // ---- models ----

  /** GET /v2/models/{name}[/versions/{v}]: input and output names, datatypes and shapes (-1 = variable). */
  async modelMetadata(name: string, version?: string | number): Promise<ModelMetadata> {
    const v = normalizeVersion(version);
    const target: CallTarget = { url: this.url, operation: 'metadata of', model: name, version: v };
    const json = (await this.getJson(target, modelPath(name, v))) as Record<string, unknown> | null;
    const inputs = Array.isArray(json?.inputs) ? json.inputs.map(parseTensorMetadata) : undefined;
    const outputs = Array.isArray(json?.outputs) ? json.outputs.map(parseTensorMetadata) : undefined;
    if (!json || typeof json.name !== 'string' || !inputs || !outputs || inputs.includes(undefined) || outputs.includes(undefined)) {
      throw tritonError('triton_request_failed', target, `malformed model metadata: ${JSON.stringify(json).slice(0, 300)}`);
    }
    return {
      name: json.name,
      versions: Array.isArray(json.versions) ? json.versions.map(String) : [],
      platform: typeof json.platform === 'string' ? json.platform : '',
      inputs: inputs as TensorMetadata[],
      outputs: outputs as TensorMetadata[],
    };
  }

  /**
   * POST /v2/repository/index (Triton's model repository extension): every model the server knows, with state and
   * reason. Undefined when the server does not offer the extension.
   */
  async repositoryIndex(): Promise<RepositoryIndexEntry[] | undefined> {
    const target: CallTarget = { url: this.url, operation: 'repository index of' };
    const { response } = await this.exchange(target, 'POST', '/v2/repository/index', {
      body: [Buffer.from('{}')],
      headers: { 'Content-Type': 'application/json', ...JSON_HEADERS },
    });
    if (response.status === 404 || response.status === 400 || response.status === 501) return undefined;
    if (response.status !== 200) throw this.statusError(target, response, 1);
    const json = this.parseJson(target, response.body);
    if (!Array.isArray(json)) throw tritonError('triton_request_failed', target, 'repository index is not a list');
    return json
      .filter((item): item is Record<string, unknown> => !!item && typeof item === 'object' && typeof item.name === 'string')
      .map((item) => ({
        name: item.name as string,
        ...(item.version === undefined ? {} : { version: String(item.version) }),
        ...(typeof item.state === 'string' ? { state: item.state } : {}),
        ...(typeof item.reason === 'string' ? { reason: item.reason } : {}),
      }));
  }

  /**
   * Fails fast, before a component sends its first batch: the server is ready, the model (and version) is ready,
   * and returns its metadata. triton_unavailable, model_not_found, model_load_failed or insufficient_gpu_memory.
   */
  async ensureModelReady(name: string, version?: string | number): Promise<ModelMetadata> {
    const v = normalizeVersion(version);
    const target: CallTarget = { url: this.url, operation: 'readiness of', model: name, version: v };
    if (!(await this.serverReady())) {
      const live = await this.serverLive();
      throw tritonError('triton_unavailable', target, live ? 'the server is live but not ready' : 'the server is not live');
    }
    if (!(await this.modelReady(name, v))) throw await this.notReadyError(target);
    return this.modelMetadata(name, v);
  }

  // ---- inference ----

  /**
   * POST /v2/models/{name}[/versions/{v}]/infer. Returns the requested outputs by name (all of them when
   * `outputs` is empty). With `binary` (the default) tensors travel as raw little-endian bytes after a JSON header
   * (`Inference-Header-Content-Length`); without it, as JSON `data` arrays.
   */
  async infer(
    name: string,
    version: string | number | undefined,
    inputs: InferInput[],
    outputs: string[],
    options: InferOptions = {},
  ): Promise<Map<string, OutputTensor>> {
    const v = normalizeVersion(version);
    const target: CallTarget = { url: this.url, operation: 'inference on', model: name, version: v };
    const binary = options.binary ?? true;
    if (inputs.length === 0) throw new TrendflowError('invalid_argument', `${target.operation} ${describeTarget(target)}: no inputs given`);
    for (const input of inputs) checkTensor(input.name, input);

    const header: Record<string, unknown> = {
      inputs: inputs.map((input) =>
        binary
          ? { name: input.name, datatype: input.datatype, shape: input.shape, parameters: { binary_data_size: 0 } }
          : { name: input.name, datatype: input.datatype, shape: input.shape, data: tensorToJsonData(input.name, input) },
      ),
    };
    if (outputs.length > 0) header.outputs = outputs.map((output) => ({ name: output, parameters: { binary_data: binary } }));
    if (binary) header.parameters = { binary_data_output: true };

    let body: Uint8Array[];
    const headers: Record<string, string | number> = { ...JSON_HEADERS };
    if (binary) {
      const blobs = inputs.map((input) => tensorToBytes(input));
      (header.inputs as { parameters: { binary_data_size: number } }[]).forEach((entry, i) => {
        entry.parameters.binary_data_size = blobs[i]!.byteLength;
      });
      const json = Buffer.from(JSON.stringify(header), 'utf8');
      body = [json, ...blobs];
      headers['Content-Type'] = 'application/octet-stream';
      headers['Inference-Header-Content-Length'] = json.byteLength;
    } else {
      body = [Buffer.from(JSON.stringify(header), 'utf8')];
      headers['Content-Type'] = 'application/json';
    }

    const { response, attempts } = await this.exchange(target, 'POST', `${modelPath(name, v)}/infer`, {
      body,
      headers,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    if (response.status !== 200) throw await this.failure(target, response, attempts);
    const result = this.parseInferResponse(target, response);
    for (const output of outputs) {
      if (!result.has(output)) {
        throw tritonError('triton_request_failed', target, `the answer has no output '${output}' (got ${[...result.keys()].join(', ') || 'none'})`);
      }
    }
    return result;
  }

  // ---- internals ----

  private async probe(target: CallTarget, path: string): Promise<boolean> {
    const { response, attempts } = await this.exchange(target, 'GET', path, { headers: JSON_HEADERS });
    if (response.status === 200) return true;
    if (TRANSIENT_STATUSES.has(response.status)) {
      throw tritonError('triton_unavailable', target, `HTTP ${response.status} after ${attempts} attempt(s): ${responseText(response)}`);
    }
    return false;
  }

  private async getJson(target: CallTarget, path: string): Promise<unknown> {
    const { response, attempts } = await this.exchange(target, 'GET', path, { headers: JSON_HEADERS });
    if (response.status !== 200) throw await this.failure(target, response, attempts);
    return this.parseJson(target, response.body);
  }

  private parseJson(target: CallTarget, body: Buffer): unknown {
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch (error) {
      throw tritonError('triton_request_failed', target, `the answer is not JSON: ${body.toString('utf8', 0, 200)}`, error);
    }
  }

  /**
   * One logical request: attempts until a non-transient answer, retrying transient failures with exponential
   * backoff and jitter. Returns the last answer (a transient status included, once retries are spent); throws
   * triton_unavailable when the server could not be reached at all.
   */
  private async exchange(
    target: CallTarget,
    method: 'GET' | 'POST',
    path: string,
    request: { body?: Uint8Array[]; headers?: Record<string, string | number>; timeoutMs?: number },
  ): Promise<Exchange> {
    const url = new URL(`${this.basePath}${path}`, this.base.origin);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      this.stats.requests += 1;
      let reason: string;
      let response: RawResponse | undefined;
      let transport: TransportError | undefined;
      try {
        response = await send(url, {
          method,
          headers: { ...this.options.headers, ...request.headers },
          ...(request.body === undefined ? {} : { body: request.body }),
          agent: this.agent,
          connectTimeoutMs: this.connectTimeoutMs,
          requestTimeoutMs: request.timeoutMs ?? this.requestTimeoutMs,
        });
        if (!TRANSIENT_STATUSES.has(response.status)) return { response, attempts: attempt };
        reason = `HTTP ${response.status}: ${responseText(response)}`;
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        transport = error;
        reason = `${error.code ? `${error.code}: ` : ''}${error.message}`;
        // a request timeout means the server took the request and did not answer: resending it would double the
        // load on a busy server; an unresolvable host name will not resolve on a retry either
        if (error.failure === 'request_timeout' || error.failure === 'fatal') throw this.transportError(target, error, attempt);
      }
      const delay = this.backoffDelay(attempt, response);
      const spent = Date.now() - started;
      if (attempt > this.retries || spent + delay > this.retryWindowMs) {
        if (transport) throw this.transportError(target, transport, attempt);
        return { response: response!, attempts: attempt };
      }
      this.stats.retries += 1;
      this.options.onRetry?.({ operation: `${target.operation} ${describeTarget(target)}`, attempt, delayMs: delay, reason });
      await sleep(delay);
    }
  }

  /** Exponential backoff with jitter (half fixed, half random), or the server's Retry-After, both capped. */
  private backoffDelay(attempt: number, response: RawResponse | undefined): number {
    const retryAfter = response?.headers['retry-after'];
    if (typeof retryAfter === 'string' && /^\d+(\.\d+)?$/.test(retryAfter.trim())) {
      return Math.min(this.retryMaxDelayMs, Number(retryAfter) * 1000);
    }
    const exponential = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** (attempt - 1));
    return Math.round(exponential / 2 + (exponential / 2) * this.random());
  }

  private transportError(target: CallTarget, error: TransportError, attempts: number): TrendflowError {
    const what =
      error.failure === 'request_timeout'
        ? `no answer within ${error.message.match(/\d+ ms/)?.[0] ?? 'the request timeout'} (not retried)`
        : error.failure === 'connect_timeout'
          ? `could not connect within ${this.connectTimeoutMs} ms`
          : `unreachable (${error.code ?? error.message})`;
    const tries = error.failure === 'request_timeout' || error.failure === 'fatal' ? '' : ` after ${attempts} attempt(s)`;
    return tritonError('triton_unavailable', target, `the server is ${what}${tries}`, error);
  }

  /** The error for a final non-2xx status, without asking the server anything more. */
  private statusError(target: CallTarget, response: RawResponse, attempts: number): TrendflowError {
    return tritonError(codeForStatus(response.status, responseText(response), target.model !== undefined), target, this.statusDetail(response, attempts));
  }

  private statusDetail(response: RawResponse, attempts: number): string {
    const tries = TRANSIENT_STATUSES.has(response.status) ? ` after ${attempts} attempt(s)` : '';
    return `HTTP ${response.status}${tries}: ${responseText(response)}`;
  }

  /**
   * The error for a final non-2xx status. When it says the model is missing or not loaded, the repository index
   * decides between "not in the repository" (model_not_found) and "there but failed to load" (model_load_failed,
   * or insufficient_gpu_memory when the load failed for memory): Triton answers 404 for both.
   */
  private async failure(target: CallTarget, response: RawResponse, attempts: number): Promise<TrendflowError> {
    const error = this.statusError(target, response, attempts);
    if (target.model === undefined || (error.code !== 'model_not_found' && error.code !== 'model_load_failed')) return error;
    const state = await this.indexState(target.model, target.version);
    if (!state || state.kind === 'ready') return error;
    const detail = this.statusDetail(response, attempts);
    if (state.kind === 'absent') return tritonError('model_not_found', target, `${detail}${state.detail}`);
    return tritonError(state.oom ? 'insufficient_gpu_memory' : 'model_load_failed', target, `${detail}; the repository says: ${state.detail}`);
  }

  /** The error for a model whose ready check said no. */
  private async notReadyError(target: CallTarget): Promise<TrendflowError> {
    const state = await this.indexState(target.model!, target.version);
    if (state?.kind === 'absent') return tritonError('model_not_found', target, `not in the server's model repository${state.detail}`);
    if (state?.kind === 'unavailable') return tritonError(state.oom ? 'insufficient_gpu_memory' : 'model_load_failed', target, `not loaded: ${state.detail}`);
    if (state?.kind === 'ready') return tritonError('model_load_failed', target, 'the repository lists it as READY but its ready check says no');
    // no repository index: the metadata endpoint tells an unknown model (404) from one that exists but is not ready
    try {
      await this.modelMetadata(target.model!, target.version);
    } catch (error) {
      if (isTrendflowError(error) && error.code !== 'triton_request_failed') return error;
    }
    return tritonError('model_load_failed', target, 'the model exists but is not ready');
  }

  /**
   * What the repository index says about a model (one attempt, no retries): absent, ready, or unavailable with
   * the server's reason. Undefined when the index cannot be read.
   */
  private async indexState(
    model: string,
    version: string | undefined,
  ): Promise<{ kind: 'absent' | 'ready' | 'unavailable'; detail: string; oom: boolean } | undefined> {
    let index: RepositoryIndexEntry[] | undefined;
    try {
      const target: CallTarget = { url: this.url, operation: 'repository index of' };
      const { response } = await this.exchangeOnce(target, 'POST', '/v2/repository/index');
      if (response.status !== 200) return undefined;
      const json = JSON.parse(response.body.toString('utf8')) as unknown;
      if (!Array.isArray(json)) return undefined;
      index = json.filter((item): item is RepositoryIndexEntry => !!item && typeof item === 'object' && typeof item.name === 'string');
    } catch {
      return undefined;
    }
    const entries = index.filter((entry) => entry.name === model);
    if (entries.length === 0) {
      const names = [...new Set(index.map((entry) => entry.name))].sort();
      return { kind: 'absent', detail: `; the repository holds: ${names.join(', ') || 'nothing'}`, oom: false };
    }
    const versioned = version === undefined ? entries : entries.filter((entry) => entry.version === undefined || String(entry.version) === version);
    if (versioned.length === 0) {
      const versions = entries.map((entry) => String(entry.version)).sort();
      return { kind: 'absent', detail: `; version ${version} is not in the repository (it has ${versions.join(', ')})`, oom: false };
    }
    if (versioned.some((entry) => entry.state === 'READY')) return { kind: 'ready', detail: '', oom: false };
    const detail = versioned
      .map((entry) => `${entry.version === undefined ? '' : `version ${entry.version} `}${entry.state ?? 'UNKNOWN'}${entry.reason ? ` (${entry.reason})` : ''}`)
      .join('; ');
    return { kind: 'unavailable', detail, oom: versioned.some((entry) => OUT_OF_MEMORY.test(entry.reason ?? '')) };
  }

  private async exchangeOnce(target: CallTarget, method: 'GET' | 'POST', path: string): Promise<Exchange> {
    const url = new URL(`${this.basePath}${path}`, this.base.origin);
    this.stats.requests += 1;
    const response = await send(url, {
      method,
      headers: { ...this.options.headers, ...JSON_HEADERS, 'Content-Type': 'application/json' },
      ...(method === 'POST' ? { body: [Buffer.from('{}')] } : {}),
      agent: this.agent,
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: Math.min(this.requestTimeoutMs, 10_000),
    }).catch((error: unknown) => {
      throw error instanceof TransportError ? this.transportError(target, error, 1) : error;
    });
    return { response, attempts: 1 };
  }

  private parseInferResponse(target: CallTarget, response: RawResponse): Map<string, OutputTensor> {
    const malformed = (detail: string, cause?: unknown): TrendflowError => tritonError('triton_request_failed', target, `malformed inference answer: ${detail}`, cause);
    const headerLength = response.headers['inference-header-content-length'];
    let jsonBytes: Buffer;
    let binary: Buffer;
    if (headerLength !== undefined) {
      const length = Number(headerLength);
      if (!Number.isSafeInteger(length) || length < 0 || length > response.body.byteLength) {
        throw malformed(`Inference-Header-Content-Length ${String(headerLength)} does not fit a body of ${response.body.byteLength} bytes`);
      }
      jsonBytes = response.body.subarray(0, length);
      binary = response.body.subarray(length);
    } else {
      jsonBytes = response.body;
      binary = Buffer.alloc(0);
    }
    let json: { outputs?: unknown };
    try {
      json = JSON.parse(jsonBytes.toString('utf8')) as { outputs?: unknown };
    } catch (error) {
      throw malformed(`the JSON header does not parse: ${jsonBytes.toString('utf8', 0, 200)}`, error);
    }
    if (!json || !Array.isArray(json.outputs)) throw malformed('no "outputs" list');
    const result = new Map<string, OutputTensor>();
    let offset = 0;
    for (const raw of json.outputs as Record<string, unknown>[]) {
      const name = raw?.name;
      const { datatype, shape } = raw ?? {};
      if (typeof name !== 'string') throw malformed('an output without a name');
      if (!isKServeDatatype(datatype)) throw malformed(`output '${name}' has datatype ${JSON.stringify(datatype)}`);
      if (!isValidShape(shape)) throw malformed(`output '${name}' has shape ${JSON.stringify(shape)}`);
      const size = (raw.parameters as { binary_data_size?: unknown } | undefined)?.binary_data_size;
      try {
        if (size !== undefined) {
          if (!Number.isSafeInteger(size) || (size as number) < 0 || offset + (size as number) > binary.byteLength) {
            throw new Error(`binary_data_size ${String(size)} runs past the ${binary.byteLength} binary bytes`);
          }
          result.set(name, { datatype, shape, data: bytesToData(datatype, shape, binary.subarray(offset, offset + (size as number))) });
          offset += size as number;
        } else {
          if (raw.data === undefined) throw new Error('neither data nor binary_data_size');
          result.set(name, { datatype, shape, data: jsonDataToData(datatype, shape, raw.data) });
        }
      } catch (error) {
        throw malformed(`output '${name}': ${error instanceof Error ? error.message : String(error)}`, error);
      }
    }
    if (offset !== binary.byteLength) throw malformed(`${binary.byteLength - offset} binary bytes left over after the outputs`);
    return result;
  }
}
