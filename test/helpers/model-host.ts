/**
 * Test support (not used at run time): a small HTTP server on 127.0.0.1 that serves generated model files the way
 * a download host does — Content-Length, Range requests answered with 206 — and can misbehave on demand: ignore
 * Range (answer 200), close the socket in the middle of a body, or answer with an error status.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promises as fs } from 'node:fs';
import type { ModelSpec, RegistryFile } from '../../core/runtime/registry/types.js';

export interface ServerBehaviour {
  /** Answer every request with the whole file (200), as servers without Range support do. */
  ignoreRange?: boolean;
  /** Close the socket after sending this many body bytes… */
  cutAfter?: number;
  /** …in this many responses (then serve normally). Default 1. */
  cutTimes?: number;
  /** Answer the next `failTimes` requests with this status. */
  failStatus?: number;
  failTimes?: number;
}

export interface RequestRecord {
  path: string;
  range: string | null;
  status: number;
}

export interface ModelServer {
  /** The URL of a served path (`/models/x.onnx` → `http://127.0.0.1:PORT/models/x.onnx`). */
  url(pathname: string): string;
  /** Mutable: tests change it between calls. */
  behaviour: ServerBehaviour;
  requests: RequestRecord[];
  close(): Promise<void>;
}

export async function startModelServer(files: Record<string, Uint8Array>, behaviour: ServerBehaviour = {}): Promise<ModelServer> {
  const state: ModelServer = {
    url: () => '',
    behaviour,
    requests: [],
    close: async () => undefined,
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const range = req.headers.range ?? null;
    const record = (status: number): void => {
      state.requests.push({ path: pathname, range, status });
    };
    const b = state.behaviour;
    if (b.failStatus && (b.failTimes ?? 1) > 0) {
      b.failTimes = (b.failTimes ?? 1) - 1;
      record(b.failStatus);
      res.writeHead(b.failStatus, { 'content-type': 'text/plain' }).end('failure on purpose\n');
      return;
    }
    const body = files[pathname];
    if (!body) {
      record(404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    let start = 0;
    let status = 200;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    const match = range && !b.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (match) {
      start = Number(match[1]);
      if (start >= body.length) {
        record(416);
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const slice = Buffer.from(body.buffer, body.byteOffset + start, body.length - start);
    headers['content-length'] = slice.length;
    record(status);
    res.writeHead(status, headers);
    if (b.cutAfter !== undefined && (b.cutTimes ?? 1) > 0 && b.cutAfter < slice.length) {
      b.cutTimes = (b.cutTimes ?? 1) - 1;
      res.write(slice.subarray(0, b.cutAfter), () => {
        // let the bytes leave, then drop the connection in the middle of the body
        setTimeout(() => req.socket.destroy(), 20);
      });
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = (pathname) => `http://127.0.0.1:${port}${pathname}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A registry entry for a generated test file (an `onnx` model with a one-tensor contract). */
export function testModelSpec(files: { name: string; url: string | null; sha256: string | null; bytes: number | null }[], overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    model_name: 'test/model',
    model_version: '0123456789abcdef0123456789abcdef01234567',
    license: 'MIT',
    task: 'custom',
    engine: 'onnx',
    files,
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
    preprocessing: null,
    ...overrides,
  };
}

/** Writes a registry file holding `models` and returns its path. */
export async function writeTestRegistry(file: string, models: Record<string, ModelSpec>): Promise<string> {
  const registry: RegistryFile = { registry_version: 1, models };
  await fs.writeFile(file, `${JSON.stringify(registry, null, 2)}\n`);
  return file;
}
