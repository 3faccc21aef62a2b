/**
 * Browser mode's server (core/api/server.ts) over real HTTP: what it serves, and what it refuses — requests
 * without the token, foreign Host and Origin headers (DNS rebinding, cross-site pages), path traversal, malformed
 * payloads — plus the event stream and the `trendflow serve` / `npm start` commands.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkstationApi, startWorkstationServer, type WorkstationApi, type WorkstationServer } from '../../core/api/index.js';
import { ManifestWriter, runDir } from '../../core/store/index.js';
import { decodeEnvelope } from '../../renderer/src/api/wire.js';
import { sampleIdentity } from '../helpers/manifest.js';
import { useTempDirs } from '../helpers/tmp.js';
import { buildWorkstationStore, type WorkstationStore } from './workstation-store.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const tmp = useTempDirs('serve-');
let fixture: WorkstationStore;
let api: WorkstationApi;
let server: WorkstationServer;
let rendererDir: string;

const INDEX = '<!doctype html><title>fixture renderer</title>';

beforeAll(async () => {
  const work = await tmp();
  fixture = await buildWorkstationStore(work);
  // a stand-in build, so these tests do not depend on the renderer bundle (the e2e test serves the real one)
  rendererDir = path.join(work, 'renderer');
  await fs.mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await fs.writeFile(path.join(rendererDir, 'index.html'), INDEX);
  await fs.writeFile(path.join(rendererDir, 'assets', 'app-1234.js'), 'console.log("app")');
  await fs.writeFile(path.join(rendererDir, 'assets', 'notes.txt'), 'not a servable type');
  api = createWorkstationApi({ workspace: fixture.workspace, mode: 'browser', pollMs: 50 });
  server = await startWorkstationServer({ api, rendererDir });
});

afterAll(async () => {
  await server?.close();
  api?.close();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request, so tests can send any Host, Origin, path or body (fetch forbids some of them). */
function request(options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; port?: number }): Promise<Reply> {
  const headers = { Host: `127.0.0.1:${server.port}`, ...options.headers };
  // an empty Host means none at all (Node would otherwise fill in the default)
  const noHost = headers.Host === '';
  if (noHost) delete (headers as Partial<typeof headers>).Host;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: options.port ?? server.port, method: options.method ?? 'GET', path: options.path, headers, setHost: !noHost },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const auth = (): Record<string, string> => ({ Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' });

function callApi(method: string, params: unknown, headers: Record<string, string> = auth()): Promise<Reply> {
  return request({ method: 'POST', path: `/api/${method}`, headers, body: JSON.stringify(params) });
}

function errorCode(reply: Reply): string {
  return (JSON.parse(reply.body.toString('utf8')) as { error: { code: string } }).error.code;
}

describe('what the server serves', () => {
  it('listens on 127.0.0.1 only and prints a URL with the token in the fragment', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/#token=[A-Za-z0-9_-]{43}$`));
    expect(server.url.split('#')[1]).toBe(`token=${server.token}`);
  });

  it('refuses connections on the other interfaces of the machine', async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    if (!external) return; // a machine with only loopback has nothing else to refuse on
    const attempt = new Promise<string>((resolve) => {
      const req = http.request({ host: external.address, port: server.port, path: '/', timeout: 2000 }, () => resolve('connected'));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.on('timeout', () => {
        req.destroy();
        resolve('timeout');
      });
      req.end();
    });
    expect(await attempt).not.toBe('connected');
  });

  it('serves the renderer build with security headers; the token is not needed for the app itself', async () => {
    const index = await request({ path: '/' });
    expect(index.status).toBe(200);
    expect(index.body.toString()).toBe(INDEX);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("default-src 'none'");
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['x-frame-options']).toBe('DENY');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    const asset = await request({ path: '/assets/app-1234.js' });
    expect([asset.status, asset.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect((await request({ path: '/assets/notes.txt' })).status).toBe(404);
    expect((await request({ method: 'DELETE', path: '/' })).status).toBe(405);
  });

  it('answers API calls with the binary envelope the renderer decodes', async () => {
    const reply = await callApi('views.timeline', { run: fixture.a });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-trendflow-envelope');
    expect(reply.headers['cache-control']).toBe('no-store');
    const timeline = decodeEnvelope(new Uint8Array(reply.body).buffer) as { duration_sec: number; frames: { times: Float64Array }; signals: { luma: Float32Array } };
    expect(timeline.duration_sec).toBe(8);
    expect(timeline.frames.times).toBeInstanceOf(Float64Array);
    expect(timeline.signals.luma).toBeInstanceOf(Float32Array);
    const direct = await api.invoke('views.timeline', { run: fixture.a });
    expect(direct.ok && Array.from(timeline.signals.luma)).toEqual(direct.ok && Array.from((direct.value as typeof timeline).signals.luma));
  });
});

describe('what the server refuses', () => {
  it('API calls and the event stream without the right token', async () => {
    const attempts: Array<Record<string, string>> = [
      { 'Content-Type': 'application/json' },
      { 'Content-Type': 'application/json', Authorization: 'Bearer wrong-token' },
      { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}x` },
      { 'Content-Type': 'application/json', Authorization: `Basic ${server.token}` },
      { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token.slice(0, -1)}` },
    ];
    for (const headers of attempts) {
      const reply = await callApi('runs.list', {}, headers);
      expect([reply.status, errorCode(reply)], JSON.stringify(headers)).toEqual([403, 'access_denied']);
      expect(reply.body.toString()).not.toContain(fixture.a.run_id);
    }
    // the token is only accepted as a header: a URL parameter would end up in logs and history
    expect((await request({ method: 'POST', path: `/api/runs.list?token=${server.token}`, headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(403);
    expect((await request({ path: '/api/events' })).status).toBe(403);
  });

  it('requests naming another host (DNS rebinding) or coming from another origin', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, `localhost.evil.example:${server.port}`, '']) {
      for (const target of ['/', '/api/runs.list']) {
        const reply = await request({ method: target === '/' ? 'GET' : 'POST', path: target, headers: { ...auth(), Host: host }, body: target === '/' ? undefined : '{}' });
        // Node's HTTP server itself answers 400 to an HTTP/1.1 request without Host, before the handler
        if (host === '') expect([reply.status, reply.body.length], target).toEqual([400, 0]);
        else expect([reply.status, errorCode(reply)], `${host} ${target}`).toEqual([403, 'access_denied']);
      }
    }
    expect((await request({ path: '/', headers: { Host: `localhost:${server.port}` } })).status).toBe(200);
    for (const origin of ['http://evil.example', `http://127.0.0.1:${server.port + 1}`, 'null']) {
      const reply = await callApi('runs.list', {}, { ...auth(), Origin: origin });
      expect([reply.status, errorCode(reply)], origin).toEqual([403, 'access_denied']);
    }
    expect((await callApi('runs.list', {}, { ...auth(), Origin: server.origin })).status).toBe(200);
  });

  it('path traversal, in static paths and in run identities', async () => {
    const secret = await fs.readFile(path.join(repoRoot, 'package.json'), 'utf8');
    const paths = [
      '/../package.json',
      '/../../package.json',
      '/assets/../../package.json',
      '/%2e%2e/package.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/index.html%00.js',
      '//etc/passwd',
      `/${path.relative('/', path.join(repoRoot, 'package.json'))}`,
      '/result_store/local',
    ];
    for (const target of paths) {
      const reply = await request({ path: target });
      expect(reply.body.toString(), target).not.toContain('trendflow-workstation');
      expect(reply.body.toString(), target).not.toContain(secret.slice(0, 40));
      // a path that normalizes to the app's own index is fine; anything else is not found
      if (reply.status === 200) expect(reply.body.toString(), target).toBe(INDEX);
      else expect(reply.status, target).toBe(404);
    }
    for (const run of [
      { ...fixture.a, run_id: '..' },
      { ...fixture.a, video_id: '../../..' },
      { ...fixture.a, platform_id: '/etc' },
      { ...fixture.a, run_id: `${fixture.a.run_id}/../../${fixture.b.run_id}` },
    ]) {
      const reply = await callApi('views.frames', { run, frames: [0], max_width: 160 });
      expect([reply.status, errorCode(reply)], JSON.stringify(run)).toEqual([400, 'invalid_argument']);
    }
  });

  it('malformed payloads, methods and content types', async () => {
    const cases: Array<{ method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; status: number }> = [
      { method: 'POST', path: '/api/runs.list', body: '{"limit": ', status: 400 },
      { method: 'POST', path: '/api/runs.list', body: '[]', status: 400 },
      { method: 'POST', path: '/api/runs.list', body: '"runs"', status: 400 },
      { method: 'POST', path: '/api/runs.list', body: '{"limit": "all"}', status: 400 },
      { method: 'POST', path: '/api/runs.list', body: Buffer.alloc(1024 * 1024 + 10, 32), status: 400 },
      { method: 'POST', path: '/api/runs.list', headers: { ...auth(), 'Content-Type': 'text/plain' }, body: '{}', status: 415 },
      { method: 'GET', path: '/api/runs.list', status: 405 },
      { method: 'POST', path: '/api/no.such.method', body: '{}', status: 400 },
      { method: 'POST', path: '/api/', body: '{}', status: 400 },
      { method: 'POST', path: '/api/events', body: '{}', status: 405 },
    ];
    for (const c of cases) {
      const reply = await request({ method: c.method, path: c.path, headers: c.headers ?? auth(), body: c.body });
      expect(reply.status, `${c.method} ${c.path} ${String(c.body).slice(0, 30)}`).toBe(c.status);
      if (c.status !== 405) expect(errorCode(reply)).toBe('invalid_argument');
    }
    // browser mode analyses only files of the server's video folders (core/api/analysis.ts)
    const outside = await callApi('analysis.start', { video_path: path.join(repoRoot, 'package.json') });
    expect([outside.status, errorCode(outside)]).toEqual([403, 'access_denied']);
    // and writes export bundles only under <workspace>/exports, never where a request says
    const chosenFolder = await callApi('export.create', { runs: [fixture.a], parent_dir: '/tmp' });
    expect([chosenFolder.status, errorCode(chosenFolder)]).toEqual([403, 'access_denied']);
    const oldShape = await callApi('export.create', { runs: [fixture.a], out_dir: '/tmp/x' });
    expect([oldShape.status, errorCode(oldShape)]).toEqual([400, 'invalid_argument']);
    const missing = await callApi('runs.overview', { run: { ...fixture.a, run_id: '20990101T000000Z-00000000' } });
    expect([missing.status, errorCode(missing)]).toEqual([404, 'run_not_found']);
  });

  it('starting without a renderer build', async () => {
    await expect(startWorkstationServer({ api, rendererDir: await tmp() })).rejects.toMatchObject({ code: 'renderer_not_built' });
  });
});

describe('events', () => {
  it('streams runs.changed as server-sent events to a client with the token', async () => {
    const received = new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: '/api/events', headers: { Host: `127.0.0.1:${server.port}`, Authorization: `Bearer ${server.token}` } }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('event: runs.changed')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
      req.end();
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const identity = sampleIdentity({ run_id: '20260303T000000Z-000000ee' });
    const writer = await ManifestWriter.create(runDir(fixture.store, identity), { identity });
    await writer.close();
    const text = await received;
    expect(text).toContain('data: {"type":"runs.changed","count":3}');
    await fs.rm(path.join(fixture.store, identity.platform_id, identity.video_id), { recursive: true });
  });
});

/** Starts a command that prints the server URL on stdout; resolves with the URL, the stderr so far and the child. */
function startPrinting(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing a URL: ${stderr}`)));
  });
  // a run that is expected to fail never prints a URL; only an awaited URL may reject the test
  url.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, exit, stderr: () => stderr };
}

async function fetchInfo(url: string): Promise<{ status: number; body: string }> {
  const { origin, hash } = new URL(url);
  const response = await fetch(`${origin}/api/runs.list`, { method: 'POST', headers: { Authorization: `Bearer ${hash.slice('#token='.length)}`, 'Content-Type': 'application/json' }, body: '{}' });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()).toString('latin1') };
}

describe('the commands', () => {
  it('`trendflow serve` prints the URL, serves the store and stops cleanly on SIGTERM', async () => {
    const run = startPrinting(['bin/trendflow.js', 'serve', '--port', '0', '--workspace', fixture.workspace]);
    const url = await run.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    const reply = await fetchInfo(url);
    expect(reply.status).toBe(200);
    expect(reply.body).toContain(fixture.a.run_id);
    expect(run.stderr()).toContain('only this machine');
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });

  it('`trendflow serve` refuses a bad port as a usage error', async () => {
    const run = startPrinting(['bin/trendflow.js', 'serve', '--port', '70000']);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toContain('must be a port number');
  });

  it('`npm start` without the Electron binary says so in one line and starts browser mode', async () => {
    const run = startPrinting(['dist/main/launch.js', '--port', '0', '--workspace', fixture.workspace]);
    const url = await run.url;
    expect((await fetchInfo(url)).status).toBe(200);
    const lines = run.stderr().trim().split('\n');
    expect(lines[0]).toMatch(/^trendflow: cannot start the desktop app: .*; starting browser mode instead$/);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
  });
});
