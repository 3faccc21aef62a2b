import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { removeAtomicLeftovers, writeFileAtomic } from './atomic.js';

const tmp = useTempDirs('atomic-');

describe('writeFileAtomic', () => {
  it('creates and replaces a file, leaving no temp file', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'manifest.json');
    await writeFileAtomic(target, 'first');
    expect(await fs.readFile(target, 'utf8')).toBe('first');
    await writeFileAtomic(target, new Uint8Array([104, 105]));
    expect(await fs.readFile(target, 'utf8')).toBe('hi');
    expect(await fs.readdir(dir)).toEqual(['manifest.json']);
  });

  it('writes to a non-ASCII path', async () => {
    const dir = path.join(await tmp(), 'папка 文件');
    await fs.mkdir(dir);
    const target = path.join(dir, 'данные.json');
    await writeFileAtomic(target, 'ok');
    expect(await fs.readFile(target, 'utf8')).toBe('ok');
  });

  it('keeps the old content and removes the temp file when the rename fails', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'busy');
    await fs.mkdir(target);
    await fs.writeFile(path.join(target, 'inside'), 'keep');
    await expect(writeFileAtomic(target, 'new')).rejects.toMatchObject({ code: 'store_io_failed', details: { path: target } });
    expect(await fs.readdir(dir)).toEqual(['busy']);
    expect(await fs.readFile(path.join(target, 'inside'), 'utf8')).toBe('keep');
  });

  it('fails with store_io_failed when the folder does not exist', async () => {
    const target = path.join(await tmp(), 'missing', 'file.json');
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({ code: 'store_io_failed' });
  });

  it('streams chunks from an iterable, an async iterable or a Readable without joining them first', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'chunks.bin');
    const chunk = (i: number) => new Uint8Array(64 * 1024).fill(i);
    const expected = Buffer.concat(Array.from({ length: 40 }, (_, i) => chunk(i)));
    async function* generate() {
      for (let i = 0; i < 40; i++) yield chunk(i);
    }
    const sources = [Array.from({ length: 40 }, (_, i) => chunk(i)), generate(), Readable.from(generate())];
    for (const source of sources) {
      await writeFileAtomic(target, source);
      expect((await fs.readFile(target)).equals(expected)).toBe(true);
    }
    expect(await fs.readdir(dir)).toEqual(['chunks.bin']);
  });

  it('keeps the old content and removes the temp file when a chunk source fails midway', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'data.npz');
    await writeFileAtomic(target, 'old');
    async function* failing() {
      yield new Uint8Array(1000);
      throw new Error('source broke');
    }
    const broken = Readable.from(failing());
    for (const source of [failing(), broken]) {
      await expect(writeFileAtomic(target, source)).rejects.toMatchObject({
        code: 'store_io_failed',
        message: expect.stringContaining('source broke'),
        details: { path: target },
      });
      expect(await fs.readFile(target, 'utf8')).toBe('old');
      expect(await fs.readdir(dir)).toEqual(['data.npz']);
    }
  });

  it('does not crash on a stream that errors before it is read', async () => {
    const target = path.join(await tmp(), 'early.bin');
    const stream = new Readable({ read() {} });
    stream.destroy(new Error('early failure'));
    await expect(writeFileAtomic(target, stream)).rejects.toMatchObject({ code: 'store_io_failed', message: expect.stringContaining('early failure') });
  });

  it('ends with one complete version when writes race', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'race.json');
    const versions = Array.from({ length: 20 }, (_, i) => String(i).repeat(10_000 + i * 1000));
    await Promise.all(versions.map((content) => writeFileAtomic(target, content)));
    expect(versions).toContain(await fs.readFile(target, 'utf8'));
    expect(await fs.readdir(dir)).toEqual(['race.json']);
  });
});

describe('removeAtomicLeftovers', () => {
  it('removes only temp files of that target', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'manifest.json');
    const names = [
      'manifest.json',
      '.manifest.json.123.0a1b2c3d4e5f.tmp',
      '.manifest.json.456.ffffffffffff.tmp',
      '.other.json.123.0a1b2c3d4e5f.tmp',
      'manifest.json.tmp',
      'manifest.lock',
    ];
    await Promise.all(names.map((name) => fs.writeFile(path.join(dir, name), 'x')));
    const removed = await removeAtomicLeftovers(target);
    expect(removed.map((file) => path.basename(file)).sort()).toEqual(names.slice(1, 3).sort());
    expect((await fs.readdir(dir)).sort()).toEqual(['.other.json.123.0a1b2c3d4e5f.tmp', 'manifest.json', 'manifest.json.tmp', 'manifest.lock']);
    expect(await removeAtomicLeftovers(path.join(dir, 'gone', 'manifest.json'))).toEqual([]);
  });
});
