import { promises as fs } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, getStringList, readNpzFile } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import type { ModelRegistry } from '../../runtime/registry/index.js';
import { validateNpzFile } from '../../schema/index.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { prepareTextModelsDir, TEST_TEXT_ENCODER_ID, TEST_TEXT_TOKENIZER_ID } from '../../../test/helpers/text-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { chunkText, openTextEmbedder } from './embedder.js';
import { detectLanguage, TEXT_FEATURES } from './features.js';
import { DEFAULT_TEXT_CONFIG, EMBEDDING_SOURCES, runTextProcessor, type TextConfig } from './run.js';

const tmp = useTempDirs('text-');
const DIM = 16;
let models: { registry: ModelRegistry; modelsDir: string; sessions: OnnxSessionRegistry };
const config: TextConfig = { ...DEFAULT_TEXT_CONFIG, model: TEST_TEXT_ENCODER_ID, tokenizer: TEST_TEXT_TOKENIZER_ID };

beforeAll(async () => {
  const modelsDir = path.join(await tmp(), 'models');
  models = { registry: await prepareTextModelsDir(modelsDir, DIM), modelsDir, sessions: new OnnxSessionRegistry() };
});
afterAll(async () => models?.sessions.releaseAll());

const METADATA = {
  title: 'Как приготовить борщ за 30 минут? #рецепт',
  description: 'Простой рецепт борща.\nИнгредиенты: https://example.com/borsch #борщ #кухня\n0:00 вступление 1:30 готовим',
  tags: ['борщ', 'рецепт', 'суп'],
  chapters: [{ start_time: 0, end_time: 90, title: 'Вступление' }, { start_time: 90, end_time: 600, title: 'Готовим борщ' }],
  language: 'ru-RU',
  subtitles: { ru: [{ ext: 'vtt', url: 'https://example.com/ru.vtt', name: 'Russian' }] },
  automatic_captions: { en: [{ start: 0, end: 2, text: 'Today we are cooking a simple beetroot soup' }] },
  publishedAt: '2024-03-01T00:00:00Z',
};
const SECRET = 'SECRETMARKER';
const COMMENTS = [
  { id: 'c1', text: `Отличный рецепт, спасибо большое за видео! ${SECRET}`, authorName: 'Анна', likeCount: 10, replyCount: 2 },
  { id: 'c2', text: 'Очень вкусно получилось, вся семья довольна', authorName: 'Иван', likeCount: 4, replyCount: 0 },
  { id: 'c3', text: 'Great recipe, thank you so much for sharing this', authorName: 'John', likeCount: 6, replyCount: 1 },
  { id: 'c4', text: 'Can I make this soup without meat for my family?', authorName: 'John', likeCount: 0, replyCount: 3 },
  { id: 'c5', text: 'Сколько времени варить свеклу в этом рецепте 🍲', authorName: 'Ольга', likeCount: 1, replyCount: 0 },
];

async function inputs(options: { metadata?: object | null; snapshots?: object[] } = {}) {
  const dir = await tmp();
  let metadataFile: string | null = null;
  if (options.metadata !== null) {
    metadataFile = path.join(dir, 'meta.json');
    await fs.writeFile(metadataFile, JSON.stringify(options.metadata ?? METADATA));
  }
  let snapshotsDir: string | null = null;
  const snapshots = options.snapshots ?? [
    { collected_at: '2024-03-03T12:00:00Z', viewCount: 100, comments: COMMENTS },
    { collected_at: '2024-03-10T12:00:00Z', viewCount: 200, comments: [...COMMENTS.slice(1), { id: 'c6', text: 'new one' }, { id: 'c7', text: 'another new one' }] },
  ];
  if (snapshots.length > 0) {
    snapshotsDir = path.join(dir, 'snapshots');
    await fs.mkdir(snapshotsDir);
    for (const [i, s] of snapshots.entries()) await fs.writeFile(path.join(snapshotsDir, `s${i + 1}.json`), JSON.stringify(s));
  }
  return { identity: sampleIdentity(), runDir: path.join(dir, 'run'), metadataFile, snapshotsDir, models, batchSize: 3 };
}

async function textOf(ctx: Awaited<ReturnType<typeof inputs>>, cfg: TextConfig = config) {
  const outcome = await runTextProcessor(ctx, cfg);
  const file = path.join(ctx.runDir, outcome.artifacts[0]!.path);
  const npz = await readNpzFile(file);
  const names = getStringList(npz, 'feature_names');
  const values = getArray(npz, 'feature_values', 'float32').data;
  return {
    outcome,
    file,
    f: Object.fromEntries(names.map((n, i) => [n, values[i]!])) as Record<string, number>,
    embeddings: getArray(npz, 'embeddings', 'float32'),
    present: Array.from(getArray(npz, 'embedding_present', 'bool').data, (v) => v === 1),
    payload: npz.get('payload')!.data[0] as Record<string, any>,
    meta: getMeta(npz),
  };
}

/** Every member of the NPZ inflated and concatenated: what a reader of the file could see. */
async function npzText(file: string): Promise<string> {
  const zip = await fs.readFile(file);
  const parts: string[] = [];
  for (let offset = 0; offset + 30 <= zip.length && zip.readUInt32LE(offset) === 0x04034b50; ) {
    const method = zip.readUInt16LE(offset + 8);
    const size = zip.readUInt32LE(offset + 18);
    const start = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28);
    const data = zip.subarray(start, start + size);
    parts.push((method === 8 ? inflateRawSync(data) : data).toString('latin1'), (method === 8 ? inflateRawSync(data) : data).toString('utf8'));
    offset = start + size;
  }
  return parts.join('\n');
}

describe('text_processor: metadata and comments', () => {
  let r: Awaited<ReturnType<typeof textOf>>;
  beforeAll(async () => {
    r = await textOf(await inputs());
  });

  it('is ok and validates against text_npz_v2', async () => {
    expect((await validateNpzFile(r.file)).problems).toEqual([]);
    expect(r.outcome).toMatchObject({ status: 'ok', empty_reason: null, device_used: 'cpu' });
    expect(Object.keys(r.f)).toEqual([...TEXT_FEATURES]);
  });

  it('computes the metadata features by hand', () => {
    expect(r.f).toMatchObject({
      title_present: 1,
      title_length_chars: 41,
      title_length_words: 7,
      title_digit_count: 2,
      title_question: 1,
      title_exclamation_count: 0,
      title_emoji_count: 0,
      title_hashtag_count: 1,
      description_present: 1,
      description_line_count: 3,
      description_url_count: 1,
      description_hashtag_count: 2,
      description_timestamp_count: 2,
      tags_count: 3,
      chapters_count: 2,
      subtitle_language_count: 1,
      auto_caption_language_count: 1,
      subtitle_text_present: 1,
      declared_language_matches_title: 1,
      title_description_same_language: 1,
      ocr_text_present: 0,
    });
    expect(r.f.title_uppercase_ratio).toBeCloseTo(1 / 31, 6); // К of 31 letters
    expect(r.f.tags_mean_length_chars).toBeCloseTo(13 / 3, 5); // 4, 6, 3
  });

  it('computes the comment features of snapshot 1 by hand', () => {
    expect(r.f).toMatchObject({ comments_present: 1, comments_count: 5, comments_like_sum: 21, comments_like_max: 10, comments_reply_sum: 6, comments_language_count: 2, comments_question_ratio: Math.fround(0.2), comments_emoji_ratio: Math.fround(0.2) });
    expect(r.f.comments_like_mean).toBeCloseTo(4.2, 5);
    expect(r.f.comments_reply_mean).toBeCloseTo(1.2, 5);
    expect(r.f.comments_unique_author_ratio).toBeCloseTo(0.8, 6); // John twice
    expect(r.f.comments_top_language_share).toBeCloseTo(0.6, 6); // 3 ru of 5
    expect(r.f.comments_title_language_share).toBeCloseTo(0.6, 6);
    const lengths = COMMENTS.map((c) => [...c.text].length).sort((a, b) => a - b);
    expect(r.f.comments_length_median_chars).toBe(lengths[2]);
  });

  it('detects languages per source and records comment dynamics between snapshots (payload only)', () => {
    expect(r.payload.languages).toEqual({ declared: 'ru', title: 'ru', description: 'ru', chapters: 'ru', subtitles: 'en', comments: { ru: 3, en: 2 } });
    expect(r.payload.comment_snapshots.map((s: Record<string, unknown>) => [s.file, s.count, s.like_sum, s.reply_sum, s.new_since_previous, s.gone_since_previous])).toEqual([
      ['s1.json', 5, 21, 6, null, null],
      ['s2.json', 6, null, null, 2, 1], // the two new comments carry no counts
    ]);
    expect(r.payload.comment_snapshots[0].languages).toEqual({ ru: 3, en: 2 });
    expect(r.payload.subtitle_languages).toEqual(['ru']);
  });

  it('embeds every source with text (unit vectors) and leaves OCR a NaN row; similarities are their dot products', () => {
    expect(r.embeddings.shape).toEqual([EMBEDDING_SOURCES.length, DIM]);
    expect(r.present).toEqual([true, true, true, true, true, true, false]);
    const row = (s: string) => Array.from(r.embeddings.data.subarray(EMBEDDING_SOURCES.indexOf(s as never) * DIM, (EMBEDDING_SOURCES.indexOf(s as never) + 1) * DIM));
    for (const s of EMBEDDING_SOURCES.slice(0, 6)) expect(Math.hypot(...row(s))).toBeCloseTo(1, 5);
    expect(row('ocr').every(Number.isNaN)).toBe(true);
    const dot = (a: number[], b: number[]) => a.reduce((sum, v, k) => sum + v * b[k]!, 0);
    expect(r.f.title_description_similarity).toBeCloseTo(dot(row('title'), row('description')), 5);
    expect(r.f.title_comments_similarity).toBeCloseTo(dot(row('title'), row('comments')), 5);
    expect((r.meta.models_used as { model_name: string; engine: string }[]).map((m) => [m.model_name, m.engine])).toEqual([
      ['test-text-encoder', 'onnxruntime'],
      ['test-text-tokenizer', 'hf_tokenizers'],
    ]);
    expect(r.meta.model_signature).toMatch(/^msig1:/);
  });

  it('stores no raw comment text by default; with retain_raw_comments (and a retention) it does, and says so', async () => {
    expect(await npzText(r.file)).not.toContain(SECRET);
    expect(r.payload).not.toHaveProperty('raw_comments');
    expect(r.meta.privacy).toEqual({ retain_raw_comments: false, retain_raw_ocr_text: false, retention_days: null, raw_text_stored: false });
    const kept = await textOf(await inputs(), { ...config, retain_raw_comments: true, retention_days: 30 });
    expect(await npzText(kept.file)).toContain(SECRET);
    expect(kept.payload.raw_comments).toHaveLength(5);
    expect(kept.payload.raw_comments[0]).toEqual({ id: 'c1', text: COMMENTS[0]!.text, like_count: 10, reply_count: 2 });
    expect(kept.meta.privacy).toMatchObject({ retain_raw_comments: true, retention_days: 30, raw_text_stored: true });
  });

  it.skipIf(!numpyAvailableOrCi)('loads in NumPy: the payload dict, the embeddings and their mask', () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
p = z['payload'].item()
print(json.dumps({'title': p['languages']['title'], 'comments': p['languages']['comments'], 'shape': list(z['embeddings'].shape),
  'present': z['embedding_present'].tolist(), 'ocr_nan': bool(np.isnan(z['embeddings'][-1]).all()), 'sources': [str(s) for s in z['embedding_sources']]}))`,
      [r.file],
    );
    expect(JSON.parse(out)).toEqual({ title: 'ru', comments: { ru: 3, en: 2 }, shape: [7, DIM], present: [true, true, true, true, true, true, false], ocr_nan: true, sources: [...EMBEDDING_SOURCES] });
  });
});

describe('text_processor: missing inputs are NaN, never 0', () => {
  it('a hidden like count makes the like features unknown, not smaller', async () => {
    const comments = [COMMENTS[0], { ...COMMENTS[1], likeCount: null }];
    const r = await textOf(await inputs({ snapshots: [{ collected_at: '2024-03-03T12:00:00Z', comments }] }));
    expect(r.f.comments_like_sum).toBeNaN();
    expect(r.f.comments_like_max).toBeNaN();
    expect(r.f.comments_reply_sum).toBe(2);
  });

  it('a snapshot without a comments list: comment features NaN, no comment embedding, a note', async () => {
    const r = await textOf(await inputs({ snapshots: [{ collected_at: '2024-03-03T12:00:00Z', viewCount: 5 }] }));
    expect(r.f.comments_present).toBe(0);
    for (const name of ['comments_count', 'comments_like_sum', 'comments_length_mean_chars', 'title_comments_similarity']) expect(r.f[name], name).toBeNaN();
    expect(r.present[EMBEDDING_SOURCES.indexOf('comments')]).toBe(false);
    expect(r.outcome.notes).toEqual(['snapshot 1 (s1.json) has no comments list: the comment features are missing']);
    expect((await validateNpzFile(r.file)).problems).toEqual([]);
  });

  it('comments collected but none there: a real count of 0, means undefined', async () => {
    const r = await textOf(await inputs({ snapshots: [{ collected_at: '2024-03-03T12:00:00Z', comments: [] }] }));
    expect([r.f.comments_present, r.f.comments_count, r.f.comments_like_sum]).toEqual([1, 0, 0]);
    expect(r.f.comments_like_mean).toBeNaN();
  });

  it('no metadata and no snapshots: empty with no_text_available, no model needed (the real model is not installed)', async () => {
    const ctx = await inputs({ metadata: null, snapshots: [] });
    const r = await textOf(ctx, { ...DEFAULT_TEXT_CONFIG });
    expect((await validateNpzFile(r.file)).problems).toEqual([]);
    expect([r.outcome.status, r.outcome.empty_reason]).toEqual(['empty', 'no_text_available']);
    expect(r.embeddings.shape).toEqual([7, 768]);
    expect(r.present.every((p) => !p)).toBe(true);
    expect(r.meta.models_used).toEqual([]);
    expect(r.meta).not.toHaveProperty('model_signature');
    expect(r.f.title_present).toBe(0);
    expect(r.f.title_length_chars).toBeNaN();
  });

  it('text to embed but the real model not installed: model_not_found with the fetch command', async () => {
    const error = await runTextProcessor(await inputs(), { ...DEFAULT_TEXT_CONFIG }).catch((e: unknown) => e);
    expect(isTrendflowError(error) && error.code).toBe('model_not_found');
    expect((error as Error).message).toContain('npx trendflow models fetch multilingual-mpnet-tokenizer');
  });

  it('metadata of the wrong shape is metadata_invalid naming the key', async () => {
    const error = await runTextProcessor(await inputs({ metadata: { title: 'x', tags: 'a,b' } }), config).catch((e: unknown) => e);
    expect(isTrendflowError(error) && [error.code, error.details.key]).toEqual(['metadata_invalid', 'tags']);
  });
});

describe('the sentence embedder', () => {
  it('mean-pools over the attention mask: a text embeds the same alone and next to a longer one', async () => {
    const embedder = await openTextEmbedder(config, models, 4);
    const alone = await embedder.embed(['привет video']);
    const padded = await embedder.embed(['привет video', 'a much longer text that forces padding of the first one']);
    for (let k = 0; k < DIM; k++) expect(padded[k]).toBeCloseTo(alone[k]!, 6);
  });

  it('cuts long texts at whitespace into chunks of at most chunk_chars, at most max_chunks of them', () => {
    expect(chunkText('aa bb cc dd', 5, 10)).toEqual(['aa bb', 'cc dd']);
    expect(chunkText('abcdefghij', 4, 10)).toEqual(['abcd', 'efgh', 'ij']);
    expect(chunkText('a b c d e f', 3, 2)).toEqual(['a b', 'c d']);
    expect(chunkText('   ', 5, 3)).toEqual([]);
  });

  it('detects languages of short texts, and none where nothing is reliable', () => {
    expect(['Как приготовить борщ за 30 минут', 'Great video thanks', 'Дякую за відео, дуже корисно', 'Wie man eine Pizza backt'].map(detectLanguage)).toEqual(['ru', 'en', 'uk', 'de']);
    expect(detectLanguage('lol')).toBeNull();
    expect(detectLanguage('')).toBeNull();
  });
});

describe('text_processor as a pipeline component', () => {
  it('is registered, reads metadata and snapshots, and refuses raw-text retention without a bounded retention', () => {
    const definition = componentDefinition('text_processor');
    expect(definition).toMatchObject({ kind: 'text', schemaVersion: 'text_npz_v2' });
    expect(definition.uses).toEqual({ frames: false, signals: false, audio: false, metadata: true, snapshots: true });
    const code = (value: unknown) => {
      try {
        definition.parseConfig(value);
        return 'ok';
      } catch (error) {
        return isTrendflowError(error) ? error.code : 'other';
      }
    };
    expect(code({ retain_raw_comments: true })).toBe('invalid_argument');
    expect(code({ retain_raw_comments: true, retention_days: 90 })).toBe('invalid_argument'); // over the 60-day hard cap
    expect(code({ retain_raw_comments: true, retention_days: 30 })).toBe('ok');
    expect(code({ comments: 5 })).toBe('invalid_argument');
  });
});
