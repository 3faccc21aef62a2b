import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_VERSION, type Manifest } from '../contracts/manifest.js';
import { sampleIdentity } from '../../test/helpers/manifest.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { ManifestWriter, readManifest } from './manifest.js';
import { validateManifest } from './manifest-schema.js';
import { runDir, storeDir } from './paths.js';
import { listRuns } from './runs.js';

/*
 * A writer process is SIGKILLed at random moments while it rewrites a large manifest in a tight loop; after each
 * kill the manifest on disk must be exactly one version the writer produced (the last one it reported or the one
 * in flight), never a torn or partial file. The child runs the compiled store from dist/ (Node 20 cannot run
 * TypeScript); the build is refreshed here when the sources are newer, as when running vitest without `npm test`.
 */

const repoRoot = path.resolve(import.meta.dirname, '../..');
const KILLS = 20;
const BASE_TIME = Date.parse('2026-01-01T00:00:00.000Z');
const identity = sampleIdentity({ run_id: 'crash-run' });

/** The notes of version `seq`: a marker, then 100 KB – 2 MB of one letter, so consecutive versions differ in size. */
function notesFor(seq: number): string[] {
  return [`seq=${seq}`, String.fromCharCode(97 + (seq % 26)).repeat(100_000 + ((seq * 7919) % 20) * 100_000)];
}

/** The manifest the child writes as version `seq` (0 = the freshly created run, without components). */
function expectedManifest(seq: number): Manifest {
  return {
    manifest_version: MANIFEST_VERSION,
    run: {
      ...identity,
      status: 'running',
      error: null,
      created_at: new Date(BASE_TIME).toISOString(),
      updated_at: new Date(BASE_TIME + seq * 1000).toISOString(),
    },
    components:
      seq === 0
        ? []
        : [
            {
              name: 'core_clip',
              kind: 'core',
              status: 'ok',
              empty_reason: null,
              artifacts: [],
              producer_version: '1.0.0',
              schema_version: 'core_clip_npz_v1',
              started_at: new Date(BASE_TIME).toISOString(),
              finished_at: new Date(BASE_TIME).toISOString(),
              duration_ms: seq,
              device_used: 'cpu',
              error: null,
              notes: notesFor(seq),
              models_used: [],
              model_signature: null,
              cache_hit: false,
              cache_source_run_id: null,
              cache_key: null,
              metrics: null,
            },
          ],
  };
}

const childScript = (storeModule: string) => `
import { ManifestWriter } from ${JSON.stringify(storeModule)};
const [runDirectory, mode, firstSeq] = process.argv.slice(2);
const BASE_TIME = ${BASE_TIME};
let seq = Number(firstSeq);
const now = () => new Date(BASE_TIME + seq * 1000);
// the same versions as notesFor() and expectedManifest() above
const notesFor = (s) => ['seq=' + s, String.fromCharCode(97 + (s % 26)).repeat(100_000 + ((s * 7919) % 20) * 100_000)];
const entry = (s) => ({
  name: 'core_clip', kind: 'core', status: 'ok', empty_reason: null, artifacts: [], producer_version: '1.0.0',
  schema_version: 'core_clip_npz_v1', started_at: new Date(BASE_TIME).toISOString(),
  finished_at: new Date(BASE_TIME).toISOString(), duration_ms: s, device_used: 'cpu', error: null, notes: notesFor(s),
  models_used: [], model_signature: null, cache_hit: false, cache_source_run_id: null, cache_key: null, metrics: null,
});
const writer = mode === 'create'
  ? await ManifestWriter.create(runDirectory, { identity: ${JSON.stringify(identity)} }, { now })
  : await ManifestWriter.open(runDirectory, { now });
for (;;) {
  seq += 1;
  await writer.upsertComponent(entry(seq));
  process.stdout.write('wrote ' + seq + '\\n');
}
`;

/** Rebuilds dist/ when a source of the store (or what it imports) is newer than its compiled file. */
function ensureBuilt(): void {
  const stale = () =>
    ['core/store', 'core/contracts'].some((dir) =>
      readdirSync(path.join(repoRoot, dir))
        .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
        .some((name) => {
          const compiled = path.join(repoRoot, 'dist', dir, name.replace(/\.ts$/, '.js'));
          return !existsSync(compiled) || statSync(compiled).mtimeMs < statSync(path.join(repoRoot, dir, name)).mtimeMs;
        }),
    );
  if (!stale()) return;
  let output = '';
  try {
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.core.json'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
  } catch (error) {
    // tsc still emits when other parts of core/ have type errors (the typecheck step reports those); only a
    // missing or stale store build matters here.
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  if (stale()) throw new Error(`could not build dist/ for the crash test:\n${output}`);
}

interface ChildRun {
  child: ChildProcess;
  /** Resolves once the child has written its first version, so every kill hits a writer in its loop. */
  writing: Promise<void>;
  lastWritten: () => number | null;
  stderr: () => string;
}

function startWriter(script: string, dir: string, mode: 'create' | 'open', firstSeq: number): ChildRun {
  const child = spawn(process.execPath, [script, dir, mode, String(firstSeq)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let last: number | null = null;
  const writing = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('wrote ')) continue;
        last = Number(line.slice('wrote '.length));
        resolve();
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('exit', (code, signal) => reject(new Error(`writer exited (${code ?? signal}) before writing:\n${err}`)));
  });
  return { child, writing, lastWritten: () => last, stderr: () => err };
}

const tmp = useTempDirs('crash-');

describe('manifest writer killed mid-write', () => {
  beforeAll(ensureBuilt, 120_000);

  it(`leaves a whole manifest, old or new, after each of ${KILLS} SIGKILLs`, async () => {
    const work = await tmp();
    const script = path.join(work, 'writer.mjs');
    await fs.writeFile(script, childScript(pathToFileURL(path.join(repoRoot, 'dist/core/store/index.js')).href));
    const store = storeDir(work);
    const dir = runDir(store, identity);

    let onDisk = 0;
    let totalWrites = 0;
    let killsWithLeftovers = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const firstSeq = kill * 100_000;
      const writer = startWriter(script, dir, kill === 0 ? 'create' : 'open', firstSeq);
      await writer.writing;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
      const exited = once(writer.child, 'exit');
      writer.child.kill('SIGKILL');
      const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect(signal, `the writer failed on its own:\n${writer.stderr()}`).toBe('SIGKILL');

      const last = writer.lastWritten()!;
      const text = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8');
      let parsed: Manifest;
      try {
        parsed = JSON.parse(text) as Manifest;
      } catch (error) {
        throw new Error(`torn manifest after kill ${kill} (${text.length} chars): ${(error as Error).message}`);
      }
      expect(validateManifest(parsed)).toEqual({ ok: true, errors: [] });
      const seq = parsed.components.length === 0 ? 0 : Number(parsed.components[0]!.notes[0]!.slice('seq='.length));
      // The last version the child reported, or the one it was writing when killed.
      expect([last, last + 1], `kill ${kill}: on disk seq ${seq}, child reported ${last}`).toContain(seq);
      expect(parsed).toEqual(expectedManifest(seq));
      expect(text).toBe(`${JSON.stringify(expectedManifest(seq), null, 2)}\n`);

      if ((await fs.readdir(dir)).some((name) => name.endsWith('.tmp'))) killsWithLeftovers++;
      totalWrites += last - firstSeq;
      onDisk = seq;
    }

    // leftover temp files are invisible to readers, and the next writer removes them
    const { platform_id, video_id, run_id } = identity;
    expect(await listRuns(store)).toEqual([{ platform_id, video_id, run_id, run_dir: dir }]);
    expect((await readManifest(dir)).components[0]?.notes[0] ?? 'seq=0').toBe(`seq=${onDisk}`);
    const next = await ManifestWriter.open(dir);
    expect((await fs.readdir(dir)).sort()).toEqual(['manifest.json', 'manifest.lock']);
    await next.close();
    console.info(`crash test: ${totalWrites} writes, ${killsWithLeftovers}/${KILLS} kills left a temp file behind`);
  });
});
