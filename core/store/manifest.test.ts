import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, ManifestComponent } from '../contracts/manifest.js';
import { rewriteAsManifestV1, SAMPLE_COMPUTED, sampleComponent, sampleIdentity } from '../../test/helpers/manifest.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { RUN_LOCK_FILE } from './lock.js';
import { ManifestWriter, describeArtifact, readManifest } from './manifest.js';
import { manifestPath } from './paths.js';

const tmp = useTempDirs('manifest-');

/** A clock that advances one second per call, so every write has a distinct, predictable updated_at. */
function steppingClock(start = Date.parse('2026-01-01T00:00:00.000Z')): () => Date {
  let calls = 0;
  return () => new Date(start + 1000 * calls++);
}

async function newRun(): Promise<{ dir: string; writer: ManifestWriter }> {
  const dir = path.join(await tmp(), 'result_store', 'local', 'file-0123456789abcdef', 'run1');
  const writer = await ManifestWriter.create(
    dir,
    { identity: sampleIdentity({ run_id: 'run1' }), source: { source_path: '/v/clip.mp4', source_bytes: 10, source_sha256: 'e'.repeat(64) } },
    { now: steppingClock() },
  );
  return { dir, writer };
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

function lockText(pid: number, host = os.hostname()): string {
  return `${pid}\n${host}\n0123456789abcdef\n`;
}

describe('ManifestWriter', () => {
  it('creates a run manifest with status running', async () => {
    const { dir, writer } = await newRun();
    const onDisk = await readManifest(dir);
    expect(onDisk).toEqual(writer.manifest);
    expect(onDisk.run).toEqual({
      ...sampleIdentity({ run_id: 'run1' }),
      source_path: '/v/clip.mp4',
      source_bytes: 10,
      source_sha256: 'e'.repeat(64),
      status: 'running',
      error: null,
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
    });
    expect(onDisk.components).toEqual([]);
    expect(await fs.readFile(path.join(dir, RUN_LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid}\n`));
    await writer.close();
    await expect(fs.access(path.join(dir, RUN_LOCK_FILE))).rejects.toThrow();
  });

  it('refuses to create a run that already has a manifest', async () => {
    const { dir, writer } = await newRun();
    await writer.close();
    await expect(ManifestWriter.create(dir, { identity: sampleIdentity() })).rejects.toMatchObject({ code: 'run_exists' });
    // the failed create released its lock
    const reopened = await ManifestWriter.open(dir);
    await reopened.close();
  });

  it('upserts components by name, keeping their order, and updates updated_at', async () => {
    const { dir, writer } = await newRun();
    const clip = sampleComponent('core_clip');
    const cuts = sampleComponent('cut_detection', 'module');
    await writer.upsertComponent(clip);
    await writer.upsertComponent(cuts);
    const faces: ManifestComponent = {
      ...sampleComponent('core_face_landmarks'),
      status: 'empty',
      empty_reason: 'no_faces_in_video',
    };
    await writer.upsertComponent(faces);
    const replaced: ManifestComponent = { ...clip, notes: ['re-run'], duration_ms: 99 };
    const returned = await writer.upsertComponent(replaced);

    const onDisk = await readManifest(dir);
    expect(onDisk).toEqual(returned);
    expect(onDisk.components).toEqual([replaced, cuts, faces]);
    expect(onDisk.run.updated_at).toBe('2026-01-01T00:00:04.000Z');
    expect(onDisk.run.created_at).toBe('2026-01-01T00:00:00.000Z');
    await writer.close();
  });

  it('keeps its own copy of entries', async () => {
    const { dir, writer } = await newRun();
    const entry = sampleComponent();
    await writer.upsertComponent(entry);
    entry.notes.push('changed by the caller later');
    writer.manifest.components[0]!.notes.push('changed through the getter');
    expect(writer.manifest.components[0]!.notes).toEqual([]);
    expect((await readManifest(dir)).components[0]!.notes).toEqual([]);
    await writer.close();
  });

  it('applies concurrent calls one at a time, in call order', async () => {
    const { dir, writer } = await newRun();
    const names = ['core_clip', 'cut_detection', 'shot_quality', 'video_pacing'] as const;
    await Promise.all([
      ...names.map((name) => writer.upsertComponent(sampleComponent(name))),
      ...Array.from({ length: 8 }, (_, i) => writer.upsertComponent({ ...sampleComponent('core_clip'), notes: [`v${i}`] })),
    ]);
    const onDisk = await readManifest(dir);
    expect(onDisk.components.map((c) => c.name)).toEqual(names);
    expect(onDisk.components[0]!.notes).toEqual(['v7']);
    expect(onDisk.run.updated_at).toBe('2026-01-01T00:00:12.000Z');
    await writer.close();
  });

  it('refuses an invalid change and leaves the file and its state untouched', async () => {
    const { dir, writer } = await newRun();
    await writer.upsertComponent(sampleComponent());
    const before = await fs.readFile(manifestPath(dir));
    const invalid = { ...sampleComponent('cut_detection', 'module'), status: 'empty', empty_reason: null } as unknown as ManifestComponent;
    await expect(writer.upsertComponent(invalid)).rejects.toMatchObject({
      code: 'manifest_invalid',
      message: expect.stringContaining('/components/1/empty_reason'),
    });
    await expect(writer.setRunStatus('error')).rejects.toMatchObject({ code: 'manifest_invalid' });
    expect(await fs.readFile(manifestPath(dir))).toEqual(before);
    expect(writer.manifest).toEqual(JSON.parse(before.toString('utf8')));
    expect(await fs.readdir(dir)).toEqual(expect.not.arrayContaining([expect.stringMatching(/\.tmp$/)]));

    // the writer goes on from the last good state
    await writer.setRunStatus('error', { error_code: 'internal_error', message: 'component crashed' });
    const onDisk = await readManifest(dir);
    expect(onDisk.run.status).toBe('error');
    expect(onDisk.run.error).toEqual({ error_code: 'internal_error', message: 'component crashed' });
    expect(onDisk.components).toHaveLength(1);
    await writer.setRunStatus('ok');
    expect((await readManifest(dir)).run).toMatchObject({ status: 'ok', error: null });
    await writer.close();
  });

  it('refuses changes after close', async () => {
    const { writer } = await newRun();
    const pending = writer.upsertComponent(sampleComponent());
    await writer.close();
    await expect(pending).resolves.toBeDefined();
    await expect(writer.upsertComponent(sampleComponent())).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('run lock', () => {
  it('allows one writer per run within a process', async () => {
    const { dir, writer } = await newRun();
    await expect(ManifestWriter.open(dir)).rejects.toMatchObject({
      code: 'run_locked',
      message: expect.stringContaining('this process'),
    });
    await writer.close();
    const second = await ManifestWriter.open(dir);
    await second.close();
  });

  it('refuses a run locked by another live process, and takes it over once that process is dead', async () => {
    const { dir, writer } = await newRun();
    await writer.close();
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      await fs.writeFile(path.join(dir, RUN_LOCK_FILE), lockText(holder.pid!));
      await expect(ManifestWriter.open(dir)).rejects.toMatchObject({
        code: 'run_locked',
        message: expect.stringContaining(`pid ${holder.pid}`),
      });
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    const recovered = await ManifestWriter.open(dir);
    expect(await fs.readFile(path.join(dir, RUN_LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid}\n`));
    await recovered.upsertComponent(sampleComponent());
    await recovered.close();
  });

  it('recovers a stale lock left by a dead process', async () => {
    const { dir, writer } = await newRun();
    await writer.close();
    await fs.writeFile(path.join(dir, RUN_LOCK_FILE), lockText(await deadPid()));
    const recovered = await ManifestWriter.open(dir);
    await recovered.upsertComponent(sampleComponent());
    await recovered.close();
    expect(await fs.readdir(dir)).toEqual(['manifest.json']);
  });

  it('treats a lock from another host as held', async () => {
    const { dir, writer } = await newRun();
    await writer.close();
    await fs.writeFile(path.join(dir, RUN_LOCK_FILE), lockText(await deadPid(), `not-${os.hostname()}`));
    await expect(ManifestWriter.open(dir)).rejects.toMatchObject({ code: 'run_locked', message: expect.stringContaining('on host') });
  });

  it('treats an unreadable lock as held while fresh and as stale once old', async () => {
    const { dir, writer } = await newRun();
    await writer.close();
    const lock = path.join(dir, RUN_LOCK_FILE);
    await fs.writeFile(lock, '');
    await expect(ManifestWriter.open(dir)).rejects.toMatchObject({ code: 'run_locked' });
    const longAgo = new Date(Date.now() - 60_000);
    await fs.utimes(lock, longAgo, longAgo);
    const recovered = await ManifestWriter.open(dir);
    await recovered.close();
  });

  it('stops writing when the lock is taken away', async () => {
    const { dir, writer } = await newRun();
    await fs.rm(path.join(dir, RUN_LOCK_FILE));
    await expect(writer.upsertComponent(sampleComponent())).rejects.toMatchObject({ code: 'run_locked' });
    await writer.close();
  });

  it('cleans temp files a crashed writer left, which readers never take for the manifest', async () => {
    const { dir, writer } = await newRun();
    await writer.close();
    const leftover = path.join(dir, `.manifest.json.${await deadPid()}.0a1b2c3d4e5f.tmp`);
    await fs.writeFile(leftover, '{"torn":');
    expect((await readManifest(dir)).run.run_id).toBe('run1');
    const reopened = await ManifestWriter.open(dir);
    await expect(fs.access(leftover)).rejects.toThrow();
    await reopened.close();
  });

  it('reports a missing run folder', async () => {
    await expect(ManifestWriter.open(path.join(await tmp(), 'nope'))).rejects.toMatchObject({ code: 'run_not_found' });
  });
});

describe('readManifest', () => {
  it('reports a missing, corrupt or invalid manifest with a code and the path', async () => {
    const dir = await tmp();
    const file = manifestPath(dir);
    await expect(readManifest(dir)).rejects.toMatchObject({ code: 'manifest_not_found', details: { path: file } });
    await fs.writeFile(file, '{"manifest_version": "manifest_v1", "run": {');
    await expect(readManifest(dir)).rejects.toMatchObject({ code: 'manifest_invalid', message: expect.stringContaining('not valid JSON') });
    await fs.writeFile(file, JSON.stringify({ manifest_version: 'manifest_v1', run: {}, components: [] }));
    await expect(readManifest(dir)).rejects.toMatchObject({
      code: 'manifest_invalid',
      message: expect.stringContaining("/run must have required property 'platform_id'"),
      details: { path: file },
    });
  });

  it('reads a manifest_v1 upgraded in memory and leaves the file alone; the next write rewrites it as manifest_v2', async () => {
    const { dir, writer } = await newRun();
    const entry = { ...sampleComponent(), ...SAMPLE_COMPUTED, notes: ['batch_size 8: planned for cpu'] };
    const current = await writer.upsertComponent(entry);
    await writer.close();
    const legacy = await rewriteAsManifestV1(dir);
    const before = await fs.readFile(manifestPath(dir), 'utf8');
    expect(legacy.components[0]!.notes).toHaveLength(3);

    expect(await readManifest(dir)).toEqual(current);
    expect(await fs.readFile(manifestPath(dir), 'utf8')).toBe(before);

    const reopened = await ManifestWriter.open(dir, { now: steppingClock(Date.parse('2026-02-01T00:00:00.000Z')) });
    await reopened.setRunStatus('ok');
    await reopened.close();
    const written = JSON.parse(await fs.readFile(manifestPath(dir), 'utf8')) as Manifest;
    expect(written.manifest_version).toBe('manifest_v2');
    expect(written.components).toEqual([entry]);
  });
});

describe('describeArtifact', () => {
  it('gives the relative forward-slash path, size and sha256', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'core_clip', 'вложения é.npz');
    await fs.mkdir(path.dirname(file));
    const bytes = Buffer.alloc(2 * 1024 * 1024 + 3, 7);
    await fs.writeFile(file, bytes);
    expect(await describeArtifact(dir, file)).toEqual({
      path: 'core_clip/вложения é.npz',
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });

  it('refuses files outside the run folder and the folder itself', async () => {
    const dir = path.join(await tmp(), 'run');
    await fs.mkdir(dir);
    for (const outside of [path.join(dir, '..', 'x.npz'), dir, path.join(dir, '..', 'run2', 'a.npz')]) {
      await expect(describeArtifact(dir, outside)).rejects.toMatchObject({ code: 'invalid_argument' });
    }
    await expect(describeArtifact(dir, path.join(dir, 'missing.npz'))).rejects.toMatchObject({ code: 'file_read_failed' });
  });
});
