import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A private redis-server for the queue tests: Debian's `redis-server` on a free loopback port, no persistence, in a
 * temp folder, stopped by the test. Outside CI a machine without redis-server skips the queue tests; in CI
 * (`CI=true`) a missing redis-server is a failure (.ci/run installs it), never a skip.
 */
function findRedisServer(): string | null {
  const fromPath = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'redis-server'));
  for (const candidate of [...new Set([...fromPath, '/usr/bin/redis-server'])]) {
    if (!existsSync(candidate)) continue;
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore', timeout: 10_000 });
      return candidate;
    } catch {
      // not runnable; try the next
    }
  }
  return null;
}

const redisServer = findRedisServer();

export const redisAvailableOrCi = redisServer !== null || process.env.CI === 'true';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a redis-server and waits (up to 30 s) until it accepts connections. */
export async function startRedis(): Promise<RedisServer> {
  if (!redisServer) throw new Error('redis-server not found on PATH or at /usr/bin/redis-server (apt-get install redis-server)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trendflow-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 30_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (!exited) {
        const done = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
