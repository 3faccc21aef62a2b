import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSampleRun } from '../../test/helpers/run-fixture.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { RunValidationCache } from './validation-cache.js';

const tmp = useTempDirs('validation-cache-');

describe('RunValidationCache', () => {
  it('validates a run once while its files stay as they were, and again after any change to them', async () => {
    const runDir = await writeSampleRun(await tmp());
    const cache = new RunValidationCache();
    const first = await cache.validate(runDir);
    expect(first.ok).toBe(true);
    expect(await cache.validate(runDir)).toBe(first);

    // an artifact rewritten with other bytes of the same length: a new inode and mtime, so a full validation
    const artifact = path.join(runDir, 'loudness_extractor', 'loudness.npz');
    const bytes = await fs.readFile(artifact);
    bytes[bytes.length - 30]! ^= 0xff;
    await fs.writeFile(`${artifact}.new`, bytes);
    await fs.rename(`${artifact}.new`, artifact);
    const tampered = await cache.validate(runDir);
    expect(tampered).not.toBe(first);
    expect(tampered.ok).toBe(false);
    expect(tampered.problems.map((p) => p.code)).toContain('artifact_sha256_mismatch');

    // a file that appears (a component writing its artifact) is a change too
    const fixed = await writeSampleRun(await tmp());
    const clean = await cache.validate(fixed);
    await fs.writeFile(path.join(fixed, 'core_clip', 'extra.txt'), 'x');
    expect(await cache.validate(fixed)).not.toBe(clean);
  });
});
