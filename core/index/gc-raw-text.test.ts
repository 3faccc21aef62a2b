/**
 * gc removes raw comment text whose retention ran out (seed 002 §6.2, DESIGN.md §9): text_processor runs through
 * the orchestrator with a generated sentence encoder, keeping raw comments for one day; a second run reuses the
 * artifact from the cache (a hard link to the same file); gc is planned two days later.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { editManifest } from '../../test/helpers/run-fixture.js';
import { numpyAvailableOrCi, runPython } from '../../test/helpers/python.js';
import { prepareTextModelsDir, TEST_TEXT_ENCODER_ID, TEST_TEXT_TOKENIZER_ID } from '../../test/helpers/text-models.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { VideoFixtures } from '../../test/helpers/video-fixtures.js';
import { registerGcCommand } from '../cli/commands/gc.js';
import type { ManifestComponent } from '../contracts/manifest.js';
import { DEFAULT_READ_LIMITS, getMeta, readNpzFile } from '../npz/index.js';
import { listMembers, openZip, readMember } from '../npz/zip.js';
import { analyzeVideo } from '../pipeline/orchestrator.js';
import type { Profile } from '../pipeline/profile.js';
import { OnnxSessionRegistry } from '../runtime/onnx/sessions.js';
import type { ModelRegistry } from '../runtime/registry/index.js';
import { validateRunDir } from '../schema/index.js';
import { hashFile } from '../store/hash.js';
import { ManifestWriter, readManifest } from '../store/manifest.js';
import { RunIndex } from './db.js';
import { applyGc, planGc, RAW_TEXT_REMOVED_NOTE, type GcPlan } from './gc.js';

const tmp = useTempDirs('gc-raw-text-');
const DAY = 24 * 60 * 60 * 1000;
const SECRET = 'SECRETMARKER';
const ARTIFACT = 'text_processor/features.npz';

let fixtures: VideoFixtures;
let video: string;
let inputs: { metadataFile: string; snapshotsDir: string };
let models: { modelsDir: string; registry: ModelRegistry };
const sessions = new OnnxSessionRegistry();

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  [video] = (await fixtures.distinctShorts(1)) as [string];
  const work = await tmp();
  const modelsDir = path.join(work, 'models');
  models = { modelsDir, registry: await prepareTextModelsDir(modelsDir, 16) };

  const metadataFile = path.join(work, 'meta.json');
  await fs.writeFile(metadataFile, JSON.stringify({ title: 'Borscht in 30 minutes', description: 'A simple recipe.' }));
  const snapshotsDir = path.join(work, 'snapshots');
  await fs.mkdir(snapshotsDir);
  const comments = [
    { id: 'c1', text: `great recipe thanks ${SECRET}`, authorName: 'Anna', likeCount: 3, replyCount: 1 },
    { id: 'c2', text: 'очень вкусно', authorName: 'Ivan', likeCount: 1, replyCount: 0 },
  ];
  await fs.writeFile(path.join(snapshotsDir, 's1.json'), JSON.stringify({ collected_at: '2024-03-03T12:00:00Z', viewCount: 100, comments }));
  inputs = { metadataFile, snapshotsDir };
});

afterAll(async () => {
  await sessions.releaseAll();
  await fixtures?.cleanup();
});

function textProfile(privacy: Record<string, unknown>): Profile {
  const params = { model: TEST_TEXT_ENCODER_ID, tokenizer: TEST_TEXT_TOKENIZER_ID, batch_size: 4, ...privacy };
  return { name: 'gc-raw-text', description: 'text_processor only', file: '/dev/null', segmenter: { analysis_fps: 6, analysis_short_side: 48 }, components: new Map([['text_processor', { required: true, params }]]) };
}

const KEEP_ONE_DAY = { retain_raw_comments: true, retention_days: 1 };

async function workspace(): Promise<{ ws: string; index: RunIndex }> {
  const ws = await tmp();
  return { ws, index: RunIndex.open(path.join(ws, 'index.sqlite')) };
}

/** One run of text_processor through the orchestrator; returns its run folder. */
async function analyze(ws: string, index: RunIndex, runId: string, privacy: Record<string, unknown>): Promise<string> {
  const outcome = await analyzeVideo({ video, profile: textProfile(privacy), ...inputs, runId }, { workspace: ws, ...models, index, sessions });
  expect(outcome.status).toBe('ok');
  return outcome.run_dir;
}

function textEntry(manifest: { components: ManifestComponent[] }): ManifestComponent {
  return manifest.components.find((c) => c.name === 'text_processor')!;
}

/** Whether any member of the NPZ, inflated, contains the text (as UTF-8, or UTF-32 as NumPy's `<U` stores it). */
async function npzContains(file: string, text: string): Promise<boolean> {
  const zip = await openZip(file, { path: file });
  try {
    for (const member of await listMembers(zip, DEFAULT_READ_LIMITS, {})) {
      const data = Buffer.from(await readMember(zip, member, {}));
      if (data.includes(Buffer.from(text, 'utf8')) || data.includes(Buffer.from([...text].flatMap((c) => [c.charCodeAt(0), 0, 0, 0])))) return true;
    }
  } finally {
    zip.close();
  }
  return false;
}

/** sha256 of every file under the folder: what a dry run must leave as it was. */
async function treeDigest(dir: string): Promise<Record<string, string>> {
  const digest: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith('index.sqlite')) continue;
    const file = path.join(entry.parentPath, entry.name);
    digest[path.relative(dir, file)] = (await hashFile(file)).sha256;
  }
  return digest;
}

/** `trendflow gc ARGS` in process, on the given date; returns stdout. */
async function gcCommand(at: Date, ...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerGcCommand(program);
  let out = '';
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['gc', ...args], { from: 'user' });
  } finally {
    vi.restoreAllMocks();
    vi.useRealTimers();
  }
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

function only(plan: GcPlan, runDir: string): GcPlan {
  return { ...plan, remove: [], redact: plan.redact.filter((item) => item.run_dir === runDir) };
}

describe('gc and raw text retention', () => {
  it('removes expired raw comments from each run that shares the artifact, one run at a time, leaving every run valid', async () => {
    const { ws, index } = await workspace();
    const first = await analyze(ws, index, 'first', KEEP_ONE_DAY);
    const second = await analyze(ws, index, 'second', KEEP_ONE_DAY);
    const [fileA, fileB] = [path.join(first, ARTIFACT), path.join(second, ARTIFACT)];
    const manifestA = await readManifest(first);
    expect(textEntry(await readManifest(second))).toMatchObject({ cache_hit: true, cache_source_run_id: 'first' });
    // the cache linked the first run's file: one inode, raw text in it
    expect((await fs.stat(fileB)).ino).toBe((await fs.stat(fileA)).ino);
    expect(await npzContains(fileA, SECRET)).toBe(true);
    const original = path.join(await tmp(), 'original.npz');
    await fs.copyFile(fileA, original);
    const createdAt = getMeta(await readNpzFile(fileA)).created_at as string;
    const twoDaysLater = new Date(Date.parse(createdAt) + 2 * DAY);

    // a dry run lists both and touches nothing
    const before = await treeDigest(ws);
    const plan = await planGc(ws, undefined, twoDaysLater);
    expect(plan.remove).toEqual([]);
    expect(plan.redact.map((item) => [item.kind, item.run_id, item.path, item.action])).toEqual([
      ['raw_text', 'first', fileA, 'expired'],
      ['raw_text', 'second', fileB, 'expired'],
    ]);
    const expiry = new Date(Date.parse(createdAt) + DAY).toISOString();
    expect(plan.redact[0]!.reason).toBe(`raw text stored since ${createdAt} for retention_days 1: expired ${expiry}`);
    expect(await treeDigest(ws)).toEqual(before);

    // the first run alone: a new file replaces its link; the second run's file is untouched
    const removedAt = new Date();
    const resultA = await applyGc(ws, only(plan, first), index, removedAt);
    expect([resultA.redacted.map((i) => i.run_id), resultA.skipped]).toEqual([['first'], []]);
    expect(await npzContains(fileA, SECRET)).toBe(false);
    expect((await fs.stat(fileA)).ino).not.toBe((await fs.stat(fileB)).ino);
    expect(await npzContains(fileB, SECRET)).toBe(true);
    expect((await hashFile(fileB)).sha256).toBe(textEntry(await readManifest(second)).artifacts[0]!.sha256);
    expect((await validateRunDir(second)).problems).toEqual([]);

    const redactedA = await readManifest(first);
    const entryA = textEntry(redactedA);
    const digestA = await hashFile(fileA);
    expect(entryA.artifacts).toEqual([{ path: ARTIFACT, bytes: digestA.bytes, sha256: digestA.sha256 }]);
    expect(entryA.notes).toContain(`${RAW_TEXT_REMOVED_NOTE}${removedAt.toISOString()}: ${ARTIFACT} sha256 ${textEntry(manifestA).artifacts[0]!.sha256} -> ${digestA.sha256}`);
    // a redacted result is not what its cache key computes: the cache no longer offers it
    expect(textEntry(manifestA).cache_key).not.toBeNull();
    expect(entryA.cache_key).toBeNull();
    expect(index.candidates(textEntry(manifestA).cache_key!, 'text_processor').map((c) => c.run_id)).toEqual(['second']);
    // the index holds the new digest
    const db = new Database(path.join(ws, 'index.sqlite'), { readonly: true });
    expect(db.prepare('SELECT path, bytes, sha256 FROM artifacts WHERE run_id = ?').all('first')).toEqual(entryA.artifacts);
    db.close();
    expect((await validateRunDir(first)).problems).toEqual([]);

    // then the second run
    const resultB = await applyGc(ws, only(plan, second), index, removedAt);
    expect([resultB.redacted.map((i) => i.run_id), resultB.skipped]).toEqual([['second'], []]);
    expect(await npzContains(fileB, SECRET)).toBe(false);
    expect((await validateRunDir(second)).problems).toEqual([]);
    expect((await hashFile(fileB)).sha256).toBe(textEntry(await readManifest(second)).artifacts[0]!.sha256);
    expect(index.candidates(textEntry(manifestA).cache_key!, 'text_processor')).toEqual([]);

    // nothing more to do
    const again = await planGc(ws, undefined, twoDaysLater);
    expect([again.redact, again.unreadable]).toEqual([[], []]);

    // everything but the raw text is as it was
    const [was, now] = [await readNpzFile(original, { preserveFloats: true }), await readNpzFile(fileA, { preserveFloats: true })];
    expect([...now.keys()]).toEqual([...was.keys()]);
    for (const key of ['feature_names', 'feature_values', 'embedding_sources', 'embeddings', 'embedding_present']) expect(now.get(key), key).toEqual(was.get(key));
    const { raw_comments: rawComments, ...keptPayload } = was.get('payload')!.data[0] as Record<string, unknown>;
    expect(rawComments).toHaveLength(2);
    expect(now.get('payload')!.data[0]).toEqual(keptPayload);
    const [oldMeta, newMeta] = [getMeta(was), getMeta(now)];
    expect(newMeta).toEqual({ ...oldMeta, privacy: { retain_raw_comments: true, retain_raw_ocr_text: false, retention_days: 1, raw_text_stored: false, raw_text_removed_at: removedAt.toISOString() } });
    index.close();

    if (!numpyAvailableOrCi) return;
    const out = runPython(
      `import sys, json, numpy as np
old, new = np.load(sys.argv[1], allow_pickle=True), np.load(sys.argv[2], allow_pickle=True)
p, m = new['payload'].item(), new['meta'].item()
print(json.dumps({'raw': 'raw_comments' in p, 'privacy': m['privacy'], 'same_features': bool(np.array_equal(old['feature_values'], new['feature_values'], equal_nan=True)),
  'same_embeddings': bool(np.array_equal(old['embeddings'], new['embeddings'], equal_nan=True)), 'comments_chunks': p['chunks']['comments']}))`,
      [original, fileB],
    );
    expect(JSON.parse(out)).toEqual({
      raw: false,
      privacy: { retain_raw_comments: true, retain_raw_ocr_text: false, retention_days: 1, raw_text_stored: false, raw_text_removed_at: removedAt.toISOString() },
      same_features: true,
      same_embeddings: true,
      comments_chunks: 2,
    });
  });

  it('leaves raw text alone before its retention runs out, and artifacts that never stored any', async () => {
    const { ws, index } = await workspace();
    const kept = await analyze(ws, index, 'kept', KEEP_ONE_DAY);
    await analyze(ws, index, 'plain', {});
    const createdAt = Date.parse(getMeta(await readNpzFile(path.join(kept, ARTIFACT))).created_at as string);
    expect((await planGc(ws, undefined, new Date(createdAt + DAY - 1000))).redact).toEqual([]);
    const later = await planGc(ws, undefined, new Date(createdAt + 2 * DAY));
    expect(later.redact.map((item) => item.run_id)).toEqual(['kept']);
    index.close();
  });

  it('leaves a run in progress alone, and skips a run whose lock is taken between the plan and the removal', async () => {
    const { ws, index } = await workspace();
    const runDir = await analyze(ws, index, 'busy', KEEP_ONE_DAY);
    const file = path.join(runDir, ARTIFACT);
    const later = new Date(Date.parse(getMeta(await readNpzFile(file)).created_at as string) + 2 * DAY);
    const plan = await planGc(ws, undefined, later);
    expect(plan.redact.map((item) => item.run_id)).toEqual(['busy']);

    const writer = await ManifestWriter.open(runDir);
    const result = await applyGc(ws, plan, index);
    expect(result.redacted).toEqual([]);
    expect(result.skipped.map((s) => [s.item.kind, s.reason])).toEqual([['raw_text', expect.stringMatching(/run_locked: run is being written by another writer in this process/)]]);
    expect(await npzContains(file, SECRET)).toBe(true);

    await writer.setRunStatus('running');
    const running = await planGc(ws, undefined, later);
    expect([running.redact, running.in_progress]).toEqual([[], [runDir]]);
    await writer.setRunStatus('ok');
    await writer.close();
    index.close();
  });

  it('finishes a gc that stopped between rewriting the artifact and recording it in the manifest', async () => {
    const { ws, index } = await workspace();
    const runDir = await analyze(ws, index, 'crashed', KEEP_ONE_DAY);
    const file = path.join(runDir, ARTIFACT);
    const unredacted = textEntry(await readManifest(runDir));
    const later = new Date(Date.parse(getMeta(await readNpzFile(file)).created_at as string) + 2 * DAY);
    await applyGc(ws, await planGc(ws, undefined, later), index);
    // what the crash leaves: the new file, the manifest entry as it was
    await editManifest(runDir, (manifest) => {
      manifest.components = manifest.components.map((c) => (c.name === 'text_processor' ? unredacted : c));
    });
    expect((await validateRunDir(runDir)).problems.map((p) => p.code)).toContain('artifact_sha256_mismatch');

    const plan = await planGc(ws, undefined, later);
    expect(plan.redact.map((item) => [item.run_id, item.action])).toEqual([['crashed', 'record']]);
    expect(plan.redact[0]!.reason).toMatch(/^raw text removed at .* by a gc that stopped before recording it/);
    const result = await applyGc(ws, plan, index);
    expect(result.skipped).toEqual([]);
    expect((await validateRunDir(runDir)).problems).toEqual([]);
    expect(textEntry(await readManifest(runDir)).notes.filter((n) => n.startsWith(RAW_TEXT_REMOVED_NOTE))).toHaveLength(1);
    expect((await planGc(ws, undefined, later)).redact).toEqual([]);
    index.close();
  });

  it('`trendflow gc --dry-run` lists the expired raw text and changes nothing; `trendflow gc` removes it', async () => {
    const { ws, index } = await workspace();
    const runDir = await analyze(ws, index, 'cli', KEEP_ONE_DAY);
    index.close();
    const file = path.join(runDir, ARTIFACT);
    const createdAt = getMeta(await readNpzFile(file)).created_at as string;
    const later = new Date(Date.parse(createdAt) + 2 * DAY);
    const before = await treeDigest(ws);
    const reason = `raw text stored since ${createdAt} for retention_days 1: expired ${new Date(Date.parse(createdAt) + DAY).toISOString()}`;
    expect(await gcCommand(later, '--dry-run', '--store', ws)).toBe(`would remove raw text from ${file}  (${reason})\n0 item(s) would be removed\nraw text would be removed from 1 artifact(s)\n`);
    expect(await treeDigest(ws)).toEqual(before);
    const result = JSON.parse(await gcCommand(later, '--store', ws, '--json'));
    expect(result).toMatchObject({ dry_run: false, removed: [], skipped: [], redacted: [{ kind: 'raw_text', run_id: 'cli', path: file, artifact: ARTIFACT, action: 'expired', reason }] });
    expect(await npzContains(file, SECRET)).toBe(false);
    expect((await validateRunDir(runDir)).problems).toEqual([]);
  });
});
