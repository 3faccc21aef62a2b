/**
 * text_processor: features and multilingual embeddings of the video's texts — metadata (title, description, tags,
 * chapters, subtitles), the comments of snapshot 1, and OCR text once an OCR component exists (seed 001 §9, seed
 * 002 §6.2). Raw comment and OCR text are not stored unless retention is enabled. See README.md.
 */
import { TrendflowError } from '../../contracts/errors.js';
import type { ModelUsed } from '../../contracts/meta.js';
import { ndarray, type PyValue } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import type { ComponentOutcome, ComponentRunContext } from '../../pipeline/component.js';
import { modelSignature } from '../../runtime/signature.js';
import { namedVideoId, readMetadataJson, readSnapshots, type Snapshot } from '../../temporal/snapshots.js';
import { chunkText, declaredTextWidth, openTextEmbedder, type EmbedderConfig } from './embedder.js';
import { commentDynamics, detectLanguages, surfaceFeatures, TEXT_FEATURES, type DetectedLanguages } from './features.js';
import { metadataText, type MetadataText } from './sources.js';

export const TEXT_PRODUCER_VERSION = '1.0.0';
export const TEXT_SCHEMA_VERSION = 'text_npz_v2';
export const TEXT_ARTIFACT = 'features.npz';
/** Rows of `embeddings`, always in this order; absent sources are NaN rows with `embedding_present` False. */
export const EMBEDDING_SOURCES = ['title', 'description', 'tags', 'chapters', 'subtitles', 'comments', 'ocr'] as const;
type Source = (typeof EMBEDDING_SOURCES)[number];
/** DESIGN.md §9: raw text is never kept longer than this, whatever a user asks. */
export const RAW_TEXT_HARD_CAP_DAYS = 60;

export interface TextConfig extends EmbedderConfig {
  /** Characters per chunk of a long text (several chunks are embedded and averaged) and chunks per source. */
  chunk_chars: number;
  max_chunks: number;
  /** Comments of snapshot 1 that are embedded, in the order the source lists them (YouTube's relevance). */
  max_comments: number;
  /** Privacy (seed 002 §6.2): raw comment / OCR text is stored in the payload only when enabled, with a retention. */
  retain_raw_comments: boolean;
  retain_raw_ocr_text: boolean;
  retention_days: number | null;
  /** Texts per encoder call; null lets the batch planner choose. */
  batch_size: number | null;
}

export const DEFAULT_TEXT_CONFIG: Readonly<TextConfig> = {
  model: 'multilingual-mpnet-text',
  tokenizer: 'multilingual-mpnet-tokenizer',
  device: 'cpu',
  precision: 'fp32',
  max_tokens: 128,
  chunk_chars: 500,
  max_chunks: 16,
  max_comments: 100,
  retain_raw_comments: false,
  retain_raw_ocr_text: false,
  retention_days: null,
  batch_size: null,
};

export type TextContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'metadataFile' | 'snapshotsDir' | 'models' | 'batchSize' | 'signal'>;

/** The texts of each source to embed (one or more chunks), empty where the source has no text. */
function sourceTexts(meta: MetadataText | null, t0: Snapshot | null, config: TextConfig): Record<Source, string[]> {
  const chunks = (text: string | null | undefined) => (text && text.trim().length > 0 ? chunkText(text, config.chunk_chars, config.max_chunks) : []);
  return {
    title: chunks(meta?.title),
    description: chunks(meta?.description),
    tags: chunks(meta && meta.tags.length > 0 ? meta.tags.join(', ') : null),
    chapters: chunks(meta && meta.chapters.length > 0 ? meta.chapters.join('. ') : null),
    subtitles: chunks(meta?.subtitles.text ?? meta?.automaticCaptions.text ?? null),
    // one comment, one text: the first chunk of each (a comment is short)
    comments: (t0?.comments ?? []).slice(0, config.max_comments).flatMap((c) => chunks(c.text).slice(0, 1)),
    ocr: [],
  };
}

export async function runTextProcessor(ctx: TextContext, config: TextConfig = DEFAULT_TEXT_CONFIG): Promise<ComponentOutcome> {
  if ((config.retain_raw_comments || config.retain_raw_ocr_text) && config.retention_days === null) {
    throw new TrendflowError('invalid_argument', 'text_processor: retaining raw comment or OCR text needs retention_days');
  }
  const batchSize = ctx.batchSize ?? config.batch_size;
  if (batchSize === null || !Number.isInteger(batchSize) || batchSize < 1) throw new TrendflowError('invalid_argument', `text_processor runs with a positive batch size, got ${batchSize}`);
  const dim = declaredTextWidth(ctx.models, config.model);

  const notes: string[] = [];
  const meta = ctx.metadataFile ? metadataText(await readMetadataJson(ctx.metadataFile), ctx.metadataFile) : null;
  if (!meta) notes.push('no metadata JSON (--meta): the metadata features are missing');
  const snapshots = ctx.snapshotsDir ? (await readSnapshots(ctx.snapshotsDir, namedVideoId(ctx.identity.video_id))).snapshots : [];
  const t0 = snapshots[0] ?? null;
  if (!t0) notes.push('no snapshot: the comment features are missing');
  else if (t0.comments === null) notes.push(`snapshot 1 (${t0.file}) has no comments list: the comment features are missing`);

  const texts = sourceTexts(meta, t0, config);
  const languages = detectLanguages(meta, t0?.comments ?? null);
  const features = surfaceFeatures(meta, t0, languages);
  const embeddings = new Float32Array(EMBEDDING_SOURCES.length * dim).fill(Number.NaN);
  const present = EMBEDDING_SOURCES.map((source) => texts[source].length > 0);
  let used: ModelUsed[] = [];

  if (present.some(Boolean)) {
    ctx.signal?.throwIfAborted();
    const embedder = await openTextEmbedder(config, ctx.models, batchSize);
    used = embedder.modelsUsed();
    const all = EMBEDDING_SOURCES.flatMap((source) => texts[source]);
    const vectors = await embedder.embed(all);
    let row = 0;
    EMBEDDING_SOURCES.forEach((source, s) => {
      const n = texts[source].length;
      if (n === 0) return;
      // a source's embedding: the mean of its chunks' unit vectors, normalised again
      const target = embeddings.subarray(s * dim, (s + 1) * dim).fill(0);
      for (let i = 0; i < n; i++, row++) for (let k = 0; k < dim; k++) target[k] = target[k]! + vectors[row * dim + k]!;
      const norm = Math.hypot(...target);
      for (let k = 0; k < dim; k++) target[k] = target[k]! / norm;
    });
    const cosine = (a: Source, b: Source) => {
      const [i, j] = [EMBEDDING_SOURCES.indexOf(a), EMBEDDING_SOURCES.indexOf(b)];
      if (!present[i] || !present[j]) return Number.NaN;
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += embeddings[i * dim + k]! * embeddings[j * dim + k]!;
      return dot;
    };
    features.title_description_similarity = cosine('title', 'description');
    features.title_comments_similarity = cosine('title', 'comments');
    features.description_comments_similarity = cosine('description', 'comments');
  }

  const status = present.some(Boolean) ? 'ok' : 'empty';
  const signature = used.length > 0 ? modelSignature(used) : null;
  const rawStored = config.retain_raw_comments && (t0?.comments?.length ?? 0) > 0;
  const payload: { [key: string]: PyValue } = {
    sources: Object.fromEntries(EMBEDDING_SOURCES.map((source, s) => [source, present[s]!])),
    chunks: Object.fromEntries(EMBEDDING_SOURCES.map((source) => [source, texts[source].length])),
    languages: languagesPayload(languages),
    subtitle_languages: meta?.subtitles.languages ?? [],
    auto_caption_languages: meta?.automaticCaptions.languages ?? [],
    comment_snapshots: commentDynamics(snapshots).map((s) => ({ ...s, languages: s.languages ? { ...s.languages } : null })),
    ocr: 'unavailable: no OCR component in this pipeline',
    ...(rawStored ? { raw_comments: (t0!.comments ?? []).map((c) => ({ id: c.id, text: c.text, like_count: c.likeCount, reply_count: c.replyCount })) } : {}),
  };
  const artifactMetaDict = artifactMeta({
    identity: ctx.identity,
    producer: 'text_processor',
    producerVersion: TEXT_PRODUCER_VERSION,
    schemaVersion: TEXT_SCHEMA_VERSION,
    status,
    emptyReason: status === 'empty' ? 'no_text_available' : null,
    extra: {
      models_used: used.map((m) => ({ ...m })),
      // absent when no model ran (nothing to embed)
      ...(signature ? { model_signature: signature } : {}),
      batch_size: batchSize,
      embedding_dim: dim,
      l2_normalized: true,
      language_detector: 'eld (Efficient Language Detector) 2.x, medium database; ISO 639-1, reliable detections only',
      privacy: {
        retain_raw_comments: config.retain_raw_comments,
        retain_raw_ocr_text: config.retain_raw_ocr_text,
        retention_days: config.retention_days,
        raw_text_stored: rawStored,
      },
      snapshot1: t0 ? { file: t0.file, collected_at: t0.collectedAt.toISOString() } : null,
      notes,
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'text_processor',
    TEXT_ARTIFACT,
    {
      feature_names: ndarray.objectArray([...TEXT_FEATURES]),
      feature_values: ndarray.float32(TEXT_FEATURES.map((name) => features[name]), [TEXT_FEATURES.length]),
      payload: ndarray.objectScalar(payload),
      embedding_sources: ndarray.objectArray([...EMBEDDING_SOURCES]),
      embeddings: ndarray.float32(embeddings, [EMBEDDING_SOURCES.length, dim]),
      embedding_present: ndarray.bool(present, [EMBEDDING_SOURCES.length]),
    },
    artifactMetaDict,
  );
  return {
    status,
    empty_reason: status === 'empty' ? 'no_text_available' : null,
    artifacts: [artifact],
    models_used: used,
    model_signature: signature,
    device_used: used[0]?.device ?? null,
    notes,
  };
}

function languagesPayload(l: DetectedLanguages): { [key: string]: PyValue } {
  return { declared: l.declared, title: l.title, description: l.description, chapters: l.chapters, subtitles: l.subtitles, comments: { ...l.comments } };
}
