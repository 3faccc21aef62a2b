/**
 * Browser mode (DESIGN.md §2, §11): the built renderer and the API handler table over HTTP, on 127.0.0.1 only.
 *
 * - Every request must name this server in its Host header (127.0.0.1:PORT or localhost:PORT): a page on another
 *   site that rebinds its DNS name to 127.0.0.1 sends its own name and is refused (DNS rebinding).
 * - A request carrying an Origin must come from this server's own origin.
 * - API calls and the event stream need the random token of the printed URL, as `Authorization: Bearer …`; the
 *   URL carries it in the fragment (`/#token=…`), which browsers never send to a server, log or leak as Referer.
 * - Static files are only the files of the built renderer, looked up by exact name in a table made at start;
 *   no request path is ever joined onto a folder. Run data is reachable only through the API, by run identity.
 *
 * Calls: `POST /api/<method>` with a JSON body (≤ 1 MiB) → 200 and the binary envelope (core/api/wire.ts), or an
 * error status and `{ "error": { code, message } }`. Events: `GET /api/events` → text/event-stream.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrendflowError, type ErrorCode } from '../contracts/errors.js';
import type { WorkstationApi } from './api.js';
import type { ApiError, ApiEvent } from './contract.js';
import { mimeType, rendererFiles } from './paths.js';
import { encodeEnvelope, WIRE_CONTENT_TYPE } from './wire.js';

export const LOOPBACK_HOST = '127.0.0.1';
const MAX_BODY_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

/** The renderer's policy, also sent as a header (index.html carries the same as a meta tag for Electron). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";


const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  invalid_argument: 400,
  invalid_id: 400,
  access_denied: 403,
  run_not_found: 404,
  frame_index_out_of_range: 400,
  feature_unavailable: 501,
  internal_error: 500,
};

export interface WorkstationServerOptions {
  api: WorkstationApi;
  /** The built renderer (dist/renderer): index.html and assets/. */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Default: 32 random bytes, base64url. */
  token?: string;
}

export interface WorkstationServer {
  /** `http://127.0.0.1:PORT/#token=…`: what the user opens. */
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export async function startWorkstationServer(options: WorkstationServerOptions): Promise<WorkstationServer> {
  const files = await rendererFiles(options.rendererDir);
  const token = options.token ?? randomBytes(32).toString('base64url');
  const tokenDigest = digest(token);
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  const allowedHosts = (): string[] => [`${LOOPBACK_HOST}:${port}`, `localhost:${port}`];
  const allowedOrigins = (): string[] => allowedHosts().map((host) => `http://${host}`);

  const baseHeaders = (res: http.ServerResponse): void => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  };

  const fail = (res: http.ServerResponse, status: number, error: ApiError): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ error });
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };

  const authorized = (req: http.IncomingMessage): boolean => {
    const match = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(req.headers.authorization ?? '');
    // compare digests: equal lengths, constant time
    return match !== null && timingSafeEqual(digest(match[1]!), tokenDigest);
  };

  const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_BODY_BYTES) {
        reject(new TrendflowError('invalid_argument', `request body over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          reject(new TrendflowError('invalid_argument', `request body over ${MAX_BODY_BYTES} bytes`));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const call = async (req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<void> => {
    if (!/^application\/json(;|$)/.test(req.headers['content-type'] ?? '')) {
      fail(res, 415, { code: 'invalid_argument', message: 'API calls are POST with Content-Type: application/json' });
      return;
    }
    let params: unknown;
    try {
      const body = await readBody(req);
      params = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (error) {
      fail(res, 400, { code: 'invalid_argument', message: error instanceof TrendflowError ? error.message : `the body is not valid JSON: ${(error as Error).message}` });
      return;
    }
    const response = await options.api.invoke(method, params);
    if (!response.ok) {
      fail(res, STATUS_OF[response.error.code] ?? 422, response.error);
      return;
    }
    const body = encodeEnvelope(response.value);
    res.writeHead(200, { 'Content-Type': WIRE_CONTENT_TYPE, 'Cache-Control': 'no-store', 'Content-Length': body.byteLength });
    res.end(body);
  };

  const eventStream = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(': trendflow events\n\n');
    const send = (event: ApiEvent): void => {
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    const unsubscribe = options.api.events.subscribe(send);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    streams.add(res);
    const done = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  };

  const serveStatic = async (res: http.ServerResponse, pathname: string, head: boolean): Promise<void> => {
    const file = files.get(pathname);
    if (!file) {
      fail(res, 404, { code: 'invalid_argument', message: 'not found' });
      return;
    }
    const body = await fs.readFile(file);
    // hashed asset names never change content; index.html must always be fresh
    const cache = pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    res.writeHead(200, { 'Content-Type': mimeType(file), 'Content-Length': body.byteLength, 'Cache-Control': cache });
    res.end(head ? undefined : body);
  };

  const server = http.createServer((req, res) => {
    baseHeaders(res);
    const denied = (message: string): void => fail(res, 403, { code: 'access_denied', message });
    if (!allowedHosts().includes(req.headers.host ?? '')) {
      denied(`Host ${JSON.stringify(req.headers.host ?? '')} is not this server (${allowedHosts().join(' or ')})`);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().includes(origin)) {
      denied(`Origin ${JSON.stringify(origin)} may not use this server`);
      return;
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}`).pathname;
    } catch {
      fail(res, 400, { code: 'invalid_argument', message: 'malformed request URL' });
      return;
    }
    const handle = async (): Promise<void> => {
      if (pathname.startsWith('/api/')) {
        if (!authorized(req)) {
          denied('missing or wrong access token (open the URL `trendflow serve` printed)');
          return;
        }
        if (pathname === '/api/events') {
          if (req.method !== 'GET') fail(res, 405, { code: 'invalid_argument', message: 'the event stream is GET' });
          else eventStream(req, res);
          return;
        }
        if (req.method !== 'POST') {
          fail(res, 405, { code: 'invalid_argument', message: 'API calls are POST' });
          return;
        }
        await call(req, res, pathname.slice('/api/'.length));
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        fail(res, 405, { code: 'invalid_argument', message: 'static files are GET' });
        return;
      }
      await serveStatic(res, pathname, req.method === 'HEAD');
    };
    handle().catch((error: unknown) => {
      process.stderr.write(`trendflow: serve: ${error instanceof Error ? error.stack : String(error)}\n`);
      fail(res, 500, { code: 'internal_error', message: error instanceof Error ? error.message : String(error) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new TrendflowError('invalid_argument', `cannot listen on ${LOOPBACK_HOST}:${options.port ?? 0}: ${error.message}`, { cause: error })),
    );
    server.listen(options.port ?? 0, LOOPBACK_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${LOOPBACK_HOST}:${port}`;

  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    close: async () => {
      for (const stream of streams) stream.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
