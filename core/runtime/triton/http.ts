/**
 * One HTTP exchange with separate connect and request timeouts, on Node's own node:http/node:https (no extra
 * dependency). Built-in fetch has no per-connection connect timeout without the undici package, and this is where
 * the client needs to tell "could not connect" (retry) from "connected, no answer in time" (do not retry an infer).
 */
import http from 'node:http';
import https from 'node:https';

export type TransportFailure =
  /** TCP connect refused, host unreachable, or DNS temporarily failing: nothing was sent. */
  | 'connect_failed'
  /** No TCP connection within connectTimeoutMs. */
  | 'connect_timeout'
  /** The connection was reset or closed before a whole response arrived. */
  | 'reset'
  /** Connected, but no whole response within requestTimeoutMs. */
  | 'request_timeout'
  /** The host name does not resolve, or another error that retrying will not fix. */
  | 'fatal';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly failure: TransportFailure,
    message: string,
    /** The system error code when there is one (ECONNREFUSED, ECONNRESET, ENOTFOUND…). */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string | number>;
  body?: Uint8Array[];
  agent: http.Agent | https.Agent;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

function systemCode(error: unknown): string | undefined {
  const withCode = error as { code?: unknown; errors?: unknown[] };
  if (typeof withCode?.code === 'string') return withCode.code;
  // Node's happy-eyeballs connect raises an AggregateError; its parts carry the codes
  const first = withCode?.errors?.[0] as { code?: unknown } | undefined;
  return typeof first?.code === 'string' ? first.code : undefined;
}

function toTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const code = systemCode(error);
  const message = error instanceof Error && error.message ? error.message : String(code ?? error);
  if (code && CONNECT_CODES.has(code)) return new TransportError('connect_failed', message, code);
  if (code === 'ETIMEDOUT') return new TransportError('connect_timeout', message, code);
  if (code && RESET_CODES.has(code)) return new TransportError('reset', message, code);
  if (message === 'socket hang up') return new TransportError('reset', message, code ?? 'ECONNRESET');
  return new TransportError('fatal', message, code);
}

/** Sends one request and reads the whole response. Rejects with a TransportError only; any HTTP status resolves. */
export function send(url: URL, options: SendOptions): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    let requestTimer: NodeJS.Timeout | undefined;
    const finish = (error: unknown, response?: RawResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(requestTimer);
      clearTimeout(connectTimer);
      if (response) resolve(response);
      else reject(toTransportError(error));
    };
    const body = options.body ?? [];
    const length = body.reduce((sum, part) => sum + part.byteLength, 0);
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.method === 'POST') headers['Content-Length'] = length;
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: options.method, headers, agent: options.agent });

    // settle first, then tear the connection down: the destroy's own errors come later and are ignored
    requestTimer = setTimeout(() => {
      finish(new TransportError('request_timeout', `no complete answer within ${options.requestTimeoutMs} ms`));
      request.destroy();
    }, options.requestTimeoutMs);
    request.on('socket', (socket) => {
      if (!socket.connecting) return; // a kept-alive connection: already connected
      connectTimer = setTimeout(() => {
        finish(new TransportError('connect_timeout', `no connection within ${options.connectTimeoutMs} ms`, 'ETIMEDOUT'));
        request.destroy();
      }, options.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    request.on('error', (error) => finish(error));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => finish(error));
      response.on('end', () => {
        if (!response.complete) {
          finish(new TransportError('reset', 'the connection closed in the middle of the response', 'ECONNRESET'));
          return;
        }
        finish(undefined, { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
      });
      response.on('close', () => {
        if (!response.complete) finish(new TransportError('reset', 'the connection closed in the middle of the response', 'ECONNRESET'));
      });
    });
    for (const part of body) request.write(part);
    request.end();
  });
}
