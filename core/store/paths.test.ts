import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import {
  artifactPath,
  componentDir,
  framesDir,
  manifestPath,
  resolveWorkspace,
  runDir,
  storeDir,
} from './paths.js';
import { listRuns } from './runs.js';

const tmp = useTempDirs('paths-');
const run = { platform_id: 'youtube', video_id: 'dQw4w9WgXcQ', run_id: '20260101T000000Z-0a1b2c3d' };

describe('resolveWorkspace', () => {
  it('prefers the explicit option, then TRENDFLOW_WORKSPACE, then ./trendflow-data', () => {
    const env = { TRENDFLOW_WORKSPACE: '/data/tf' };
    expect(resolveWorkspace({ workspace: '/explicit', env, cwd: '/home/u' })).toBe(path.resolve('/explicit'));
    expect(resolveWorkspace({ env, cwd: '/home/u' })).toBe(path.resolve('/data/tf'));
    expect(resolveWorkspace({ env: {}, cwd: '/home/u' })).toBe(path.resolve('/home/u/trendflow-data'));
    expect(resolveWorkspace({ workspace: 'rel', env: {}, cwd: '/home/u' })).toBe(path.resolve('/home/u/rel'));
    expect(resolveWorkspace({ env: { TRENDFLOW_WORKSPACE: '' }, cwd: '/home/u' })).toBe(path.resolve('/home/u/trendflow-data'));
  });
});

describe('layout', () => {
  const workspace = path.resolve('/ws');
  const store = storeDir(workspace);
  const dir = runDir(store, run);

  it('places runs, manifests, artifacts and frames as DESIGN.md §4 says', () => {
    expect(store).toBe(path.join(workspace, 'result_store'));
    expect(dir).toBe(path.join(workspace, 'result_store', 'youtube', 'dQw4w9WgXcQ', run.run_id));
    expect(manifestPath(dir)).toBe(path.join(dir, 'manifest.json'));
    expect(componentDir(dir, 'core_clip')).toBe(path.join(dir, 'core_clip'));
    expect(artifactPath(dir, 'core_clip', 'core_clip.npz')).toBe(path.join(dir, 'core_clip', 'core_clip.npz'));
    expect(artifactPath(dir, 'clap_extractor', 'windowed.npy')).toBe(path.join(dir, 'clap_extractor', 'windowed.npy'));
    expect(framesDir(workspace, run)).toBe(path.join(workspace, 'frames', 'youtube', 'dQw4w9WgXcQ', run.run_id));
  });

  it('refuses ids and names that would leave the store', () => {
    expect(() => runDir(store, { ...run, video_id: '..' })).toThrow(expect.objectContaining({ code: 'invalid_id' }));
    expect(() => runDir(store, { ...run, run_id: 'a/../../b' })).toThrow(expect.objectContaining({ code: 'invalid_id' }));
    expect(() => framesDir(workspace, { ...run, platform_id: '' })).toThrow(expect.objectContaining({ code: 'invalid_id' }));
    expect(() => artifactPath(dir, 'core_clip', '../x.npz')).toThrow(expect.objectContaining({ code: 'invalid_id' }));
    expect(() => artifactPath(dir, 'core_clip', 'meta.json')).toThrow(/must end in \.npz or \.npy/);
  });
});

describe('listRuns', () => {
  it('lists run folders that hold a manifest.json, sorted, and nothing else', async () => {
    const store = path.join(await tmp(), 'result_store');
    const withManifest = [
      { platform_id: 'youtube', video_id: 'b', run_id: '20260102T000000Z-00000000' },
      { platform_id: 'local', video_id: 'file-0123456789abcdef', run_id: '20260101T000000Z-00000000' },
      { platform_id: 'youtube', video_id: 'b', run_id: '20260101T000000Z-ffffffff' },
    ];
    for (const key of withManifest) {
      await fs.mkdir(runDir(store, key), { recursive: true });
      await fs.writeFile(manifestPath(runDir(store, key)), '{}');
    }
    // a run without a manifest yet, a leftover temp file, a hidden folder, a manifest that is a folder, stray files
    const pending = runDir(store, { platform_id: 'youtube', video_id: 'b', run_id: 'pending' });
    await fs.mkdir(pending, { recursive: true });
    await fs.writeFile(path.join(pending, '.manifest.json.123.abcdef.tmp'), '{}');
    await fs.mkdir(path.join(store, 'youtube', 'b', '.trash', 'x'), { recursive: true });
    await fs.writeFile(path.join(store, 'youtube', 'b', '.trash', 'manifest.json'), '{}');
    await fs.mkdir(path.join(store, 'youtube', 'c', 'r1', 'manifest.json'), { recursive: true });
    await fs.writeFile(path.join(store, 'README'), 'not a platform');

    const runs = await listRuns(store);
    expect(runs).toEqual([
      { ...withManifest[1], run_dir: runDir(store, withManifest[1]!) },
      { ...withManifest[2], run_dir: runDir(store, withManifest[2]!) },
      { ...withManifest[0], run_dir: runDir(store, withManifest[0]!) },
    ]);
  });

  it('finds no runs in a store that does not exist', async () => {
    expect(await listRuns(path.join(await tmp(), 'nothing'))).toEqual([]);
  });
});
