/**
 * The renderer's only way to data: the workstation API, over the preload bridge in Electron or over HTTP with
 * the access token in browser mode. Both give the same typed calls and events.
 */
import type { ApiError, ApiEvent, ApiMethod, ApiParams, ApiResponse, ApiResult, TrendflowBridge } from '../../../core/api/contract.js';
import { decodeEnvelope } from './wire.js';

export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly code: ApiError['code'] | 'network_error',
    message: string,
  ) {
    super(message);
  }
}

export interface Transport {
  mode: 'electron' | 'browser';
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>>;
  subscribe(listener: (event: ApiEvent) => void): () => void;
  pickFile: ((kind: 'video' | 'metadata' | 'export_folder') => Promise<string | null>) | null;
}

declare global {
  interface Window {
    trendflow?: TrendflowBridge;
  }
}

function unwrap<T>(response: ApiResponse<T>): T {
  if (response.ok) return response.value;
  throw new ApiCallError(response.error.code, response.error.message);
}

function electronTransport(bridge: TrendflowBridge): Transport {
  return {
    mode: 'electron',
    call: async (method, params) => unwrap(await bridge.call(method, params)),
    subscribe: (listener) => bridge.onEvent(listener),
    pickFile: (kind) => bridge.pickFile(kind),
  };
}

const TOKEN_KEY = 'trendflow.token';

/**
 * The access token of browser mode: taken from the URL fragment `#token=…` (which never reaches a server or a
 * Referer), kept for this tab in sessionStorage, and removed from the address bar.
 */
export function takeToken(): string | null {
  const match = /^#token=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, match[1]!);
    history.replaceState(null, '', `${window.location.pathname}#/runs`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Parses a text/event-stream body into events (the standard framing: blank-line separated, `data:` lines). */
export async function readEventStream(body: ReadableStream<Uint8Array>, onEvent: (event: ApiEvent) => void, signal: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  signal.addEventListener('abort', () => void reader.cancel(), { once: true });
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) onEvent(JSON.parse(data) as ApiEvent);
    }
  }
}

function httpTransport(token: string): Transport {
  const headers = { Authorization: `Bearer ${token}` };
  return {
    mode: 'browser',
    async call(method, params) {
      let response: Response;
      try {
        response = await fetch(`./api/${method}`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(params) });
      } catch (error) {
        throw new ApiCallError('network_error', `the workstation server does not answer (${(error as Error).message}); is \`trendflow serve\` still running?`);
      }
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as { error?: ApiError } | null;
        throw new ApiCallError(body?.error?.code ?? 'internal_error', body?.error?.message ?? `HTTP ${response.status}`);
      }
      return decodeEnvelope(await response.arrayBuffer()) as never;
    },
    // EventSource cannot send the Authorization header, so the stream is read with fetch; it reconnects after a drop
    subscribe(listener) {
      const controller = new AbortController();
      const connect = async (): Promise<void> => {
        while (!controller.signal.aborted) {
          try {
            const response = await fetch('./api/events', { headers, signal: controller.signal });
            if (response.ok && response.body) await readEventStream(response.body, listener, controller.signal);
          } catch {
            // dropped or refused: retry below unless unsubscribed
          }
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      };
      void connect();
      return () => controller.abort();
    },
    pickFile: null,
  };
}

/** The transport of this window, or null in a browser tab opened without the token. */
export function createTransport(): Transport | null {
  if (window.trendflow) return electronTransport(window.trendflow);
  const token = takeToken();
  return token ? httpTransport(token) : null;
}
