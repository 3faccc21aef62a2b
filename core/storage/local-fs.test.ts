import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listRuns } from '../store/runs.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { LocalFsStorage } from './local-fs.js';

const tmp = useTempDirs('storage-');

/** A finished-looking run folder on "local disk": a manifest, an artifact in a component folder, a stale lock. */
async function localRun(root: string): Promise<string> {
  const dir = path.join(root, 'scratch', 'run');
  await fs.mkdir(path.join(dir, 'cut_detection'), { recursive: true });
  await fs.writeFile(path.join(dir, 'manifest.json'), '{"run":{}}\n');
  await fs.writeFile(path.join(dir, 'cut_detection', 'shots.npz'), Buffer.from([1, 2, 3, 4]));
  await fs.writeFile(path.join(dir, 'manifest.lock'), '1\nhost\nnonce\n');
  await fs.writeFile(path.join(dir, '.manifest.json.1.abc.tmp'), 'half');
  return dir;
}

describe('LocalFsStorage', () => {
  it('puts, gets, lists and checks files by key', async () => {
    const root = await tmp();
    const storage = new LocalFsStorage(root);
    await storage.put('run_requests/local/v1/r1.json', '{"a":1}');
    await storage.put('result_store/local/v1/r1/manifest.json', new Uint8Array([123, 125]));
    expect(Buffer.from(await storage.get('run_requests/local/v1/r1.json')).toString()).toBe('{"a":1}');
    expect(await storage.exists('result_store/local/v1/r1/manifest.json')).toBe(true);
    expect(await storage.exists('result_store/local/v1/r2/manifest.json')).toBe(false);
    expect(await storage.list('')).toEqual(['result_store/local/v1/r1/manifest.json', 'run_requests/local/v1/r1.json']);
    expect(await storage.list('result_store/')).toEqual(['result_store/local/v1/r1/manifest.json']);
    expect(await storage.list('result_store/local/nothing/')).toEqual([]);
    await expect(storage.get('result_store/none.json')).rejects.toMatchObject({ code: 'file_read_failed' });
    // no temp file is left beside what was written
    expect(await fs.readdir(path.join(root, 'run_requests/local/v1'))).toEqual(['r1.json']);
  });

  it('refuses keys that could leave its folder', async () => {
    const storage = new LocalFsStorage(await tmp());
    for (const key of ['../outside.json', 'a/../../b', '/etc/passwd', 'a//b', 'a\\b']) {
      await expect(storage.put(key, 'x'), key).rejects.toMatchObject({ code: 'invalid_id' });
    }
  });

  it('publishes a run whole: files and folders copied, lock and temp files left behind, then renamed into place', async () => {
    const root = await tmp();
    const shared = path.join(root, 'shared');
    const storage = new LocalFsStorage(shared);
    await storage.commitRun(await localRun(root), 'result_store/local/v1/r1');
    const published = path.join(shared, 'result_store/local/v1/r1');
    expect((await fs.readdir(published)).sort()).toEqual(['cut_detection', 'manifest.json']);
    expect([...(await fs.readFile(path.join(published, 'cut_detection/shots.npz')))]).toEqual([1, 2, 3, 4]);
    // the staging folder is gone and the store sees exactly one run
    expect(await fs.readdir(path.join(shared, 'result_store/local/v1'))).toEqual(['r1']);
    expect((await listRuns(path.join(shared, 'result_store'))).map((run) => run.run_id)).toEqual(['r1']);
  });

  it('never replaces a published run (run_exists) and leaves no staging folder behind', async () => {
    const root = await tmp();
    const storage = new LocalFsStorage(path.join(root, 'shared'));
    const local = await localRun(root);
    await storage.commitRun(local, 'result_store/local/v1/r1');
    await fs.writeFile(path.join(local, 'manifest.json'), '{"run":{"other":true}}\n');
    await expect(storage.commitRun(local, 'result_store/local/v1/r1')).rejects.toMatchObject({ code: 'run_exists' });
    expect(await fs.readFile(path.join(root, 'shared/result_store/local/v1/r1/manifest.json'), 'utf8')).toBe('{"run":{}}\n');
    expect(await fs.readdir(path.join(root, 'shared/result_store/local/v1'))).toEqual(['r1']);
  });

  it('a run folder that cannot be read is store_io_failed, and nothing appears in the store', async () => {
    const root = await tmp();
    const storage = new LocalFsStorage(path.join(root, 'shared'));
    await expect(storage.commitRun(path.join(root, 'missing'), 'result_store/local/v1/r1')).rejects.toMatchObject({ code: 'store_io_failed' });
    expect(existsSync(path.join(root, 'shared/result_store/local/v1/r1'))).toBe(false);
    expect(await fs.readdir(path.join(root, 'shared/result_store/local/v1'))).toEqual([]);
  });
});
