/**
 * text_processor's scalar features: surface statistics of the metadata texts, language detection per source
 * (ELD, `eld` on npm: ISO 639-1 codes, reliable on short texts such as titles and comments, where trigram
 * detectors like franc mislabel), and the comments of snapshot 1 (t0). Missing inputs give NaN, never 0; a count
 * of a collected list that is empty is a real 0.
 */
import { eld } from 'eld/medium';
import type { Snapshot, SnapshotComment } from '../../temporal/snapshots.js';
import type { MetadataText } from './sources.js';

/** The detected language of a text: an ISO 639-1 code when ELD finds it reliably, else null. */
export function detectLanguage(text: string | null): string | null {
  if (!text || text.trim().length === 0) return null;
  const result = eld.detect(text);
  return result.language && result.isReliable() ? result.language : null;
}

const EMOJI = /\p{Extended_Pictographic}/gu;
const HASHTAG = /#[\p{L}\p{N}_]+/gu;
const URL = /https?:\/\/\S+/gu;
const TIMESTAMP = /(?<![\d:])(?:\d{1,2}:)?\d{1,2}:\d{2}(?![\d:])/gu;

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;
const words = (text: string) => text.split(/\s+/u).filter(Boolean).length;
const flag = (value: boolean) => (value ? 1 : 0);

function uppercaseRatio(text: string): number {
  const letters = text.match(/\p{L}/gu) ?? [];
  const upper = letters.filter((c) => c !== c.toLowerCase()).length;
  return letters.length === 0 ? Number.NaN : upper / letters.length;
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const mean = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
/** Sum of the known values; NaN when a value is unknown for some comment (a partial sum would read low). */
const sumKnown = (values: (number | null)[]) => (values.some((v) => v === null) ? Number.NaN : (values as number[]).reduce((a, b) => a + b, 0));

export const TEXT_FEATURES = [
  'title_present',
  'title_length_chars',
  'title_length_words',
  'title_uppercase_ratio',
  'title_digit_count',
  'title_question',
  'title_exclamation_count',
  'title_emoji_count',
  'title_hashtag_count',
  'description_present',
  'description_length_chars',
  'description_length_words',
  'description_line_count',
  'description_url_count',
  'description_hashtag_count',
  'description_timestamp_count',
  'tags_count',
  'tags_mean_length_chars',
  'chapters_count',
  'subtitle_language_count',
  'auto_caption_language_count',
  'subtitle_text_present',
  'declared_language_matches_title',
  'title_description_same_language',
  'metadata_language_count',
  'comments_present',
  'comments_count',
  'comments_like_sum',
  'comments_like_mean',
  'comments_like_max',
  'comments_reply_sum',
  'comments_reply_mean',
  'comments_length_mean_chars',
  'comments_length_median_chars',
  'comments_unique_author_ratio',
  'comments_language_count',
  'comments_top_language_share',
  'comments_title_language_share',
  'comments_question_ratio',
  'comments_emoji_ratio',
  'ocr_text_present',
  'title_description_similarity',
  'title_comments_similarity',
  'description_comments_similarity',
] as const;
export type TextFeature = (typeof TEXT_FEATURES)[number];

export interface DetectedLanguages {
  declared: string | null;
  title: string | null;
  description: string | null;
  chapters: string | null;
  subtitles: string | null;
  /** Detected language → comments (snapshot 1); `und` for comments without a reliable detection. */
  comments: Record<string, number>;
}

/**
 * Languages per source. Tags are left out: a list of keywords ("борщ, рецепт, суп") is too short and unordered for
 * a language detector (ELD calls that one Serbian); the title and description carry the language.
 */
export function detectLanguages(meta: MetadataText | null, comments: SnapshotComment[] | null): DetectedLanguages {
  const perComment: Record<string, number> = {};
  for (const c of comments ?? []) {
    const language = detectLanguage(c.text) ?? 'und';
    perComment[language] = (perComment[language] ?? 0) + 1;
  }
  return {
    declared: meta?.declaredLanguage ?? null,
    title: detectLanguage(meta?.title ?? null),
    description: detectLanguage(meta?.description ?? null),
    chapters: detectLanguage(meta && meta.chapters.length > 0 ? meta.chapters.join('. ') : null),
    subtitles: detectLanguage(meta?.subtitles.text ?? meta?.automaticCaptions.text ?? null),
    comments: perComment,
  };
}

/** The features that do not need embeddings (the similarities are filled in by the caller). */
export function surfaceFeatures(meta: MetadataText | null, t0: Snapshot | null, languages: DetectedLanguages): Record<TextFeature, number> {
  const title = meta?.title ?? null;
  const description = meta?.description ?? null;
  const comments = t0?.comments ?? null;
  const same = (a: string | null, b: string | null) => (a === null || b === null ? Number.NaN : flag(a === b));
  const metadataLanguages = new Set([languages.title, languages.description, languages.chapters, languages.subtitles].filter((l) => l !== null));
  const detected = Object.entries(languages.comments).filter(([language]) => language !== 'und');
  const detectedCount = detected.reduce((a, [, n]) => a + n, 0);
  const commentCount = comments?.length ?? 0;
  const ratio = (n: number) => (comments === null || commentCount === 0 ? Number.NaN : n / commentCount);
  const whenComments = (value: number) => (comments === null ? Number.NaN : value);
  return {
    title_present: flag(title !== null && title.trim().length > 0),
    title_length_chars: title === null ? Number.NaN : [...title].length,
    title_length_words: title === null ? Number.NaN : words(title),
    title_uppercase_ratio: title === null ? Number.NaN : uppercaseRatio(title),
    title_digit_count: title === null ? Number.NaN : count(title, /\p{Nd}/gu),
    title_question: title === null ? Number.NaN : flag(title.includes('?')),
    title_exclamation_count: title === null ? Number.NaN : count(title, /!/gu),
    title_emoji_count: title === null ? Number.NaN : count(title, EMOJI),
    title_hashtag_count: title === null ? Number.NaN : count(title, HASHTAG),
    description_present: flag(description !== null && description.trim().length > 0),
    description_length_chars: description === null ? Number.NaN : [...description].length,
    description_length_words: description === null ? Number.NaN : words(description),
    description_line_count: description === null ? Number.NaN : description.length === 0 ? 0 : description.split(/\r?\n/u).length,
    description_url_count: description === null ? Number.NaN : count(description, URL),
    description_hashtag_count: description === null ? Number.NaN : count(description, HASHTAG),
    description_timestamp_count: description === null ? Number.NaN : count(description, TIMESTAMP),
    tags_count: meta === null ? Number.NaN : meta.tags.length,
    tags_mean_length_chars: meta === null ? Number.NaN : mean(meta.tags.map((t) => [...t].length)),
    chapters_count: meta === null ? Number.NaN : meta.chapters.length,
    subtitle_language_count: meta === null ? Number.NaN : meta.subtitles.languages.length,
    auto_caption_language_count: meta === null ? Number.NaN : meta.automaticCaptions.languages.length,
    subtitle_text_present: meta === null ? Number.NaN : flag(meta.subtitles.text !== null || meta.automaticCaptions.text !== null),
    declared_language_matches_title: same(languages.declared, languages.title),
    title_description_same_language: same(languages.title, languages.description),
    metadata_language_count: meta === null ? Number.NaN : metadataLanguages.size,
    comments_present: flag(comments !== null),
    comments_count: whenComments(commentCount),
    comments_like_sum: whenComments(sumKnown((comments ?? []).map((c) => c.likeCount))),
    comments_like_mean: ratio(sumKnown((comments ?? []).map((c) => c.likeCount))),
    comments_like_max: comments === null || commentCount === 0 || comments.some((c) => c.likeCount === null) ? Number.NaN : Math.max(...comments.map((c) => c.likeCount!)),
    comments_reply_sum: whenComments(sumKnown((comments ?? []).map((c) => c.replyCount))),
    comments_reply_mean: ratio(sumKnown((comments ?? []).map((c) => c.replyCount))),
    comments_length_mean_chars: whenComments(mean((comments ?? []).map((c) => [...c.text].length))),
    comments_length_median_chars: whenComments(median((comments ?? []).map((c) => [...c.text].length))),
    // comments without an author name count as distinct: the ratio is a lower bound of repetition
    comments_unique_author_ratio: ratio(new Set((comments ?? []).map((c, i) => c.author ?? `#${i}`)).size),
    comments_language_count: whenComments(detected.length),
    comments_top_language_share: detectedCount === 0 ? Number.NaN : Math.max(...detected.map(([, n]) => n)) / detectedCount,
    comments_title_language_share: detectedCount === 0 || languages.title === null ? Number.NaN : (languages.comments[languages.title] ?? 0) / detectedCount,
    comments_question_ratio: ratio((comments ?? []).filter((c) => c.text.includes('?')).length),
    comments_emoji_ratio: ratio((comments ?? []).filter((c) => count(c.text, EMOJI) > 0).length),
    // no OCR component exists in this pipeline yet: its text is never available
    ocr_text_present: 0,
    title_description_similarity: Number.NaN,
    title_comments_similarity: Number.NaN,
    description_comments_similarity: Number.NaN,
  };
}

/** A comment's identity across snapshots: its id, else author + text (the dataset has no comment ids, seed 002 §2). */
function commentKey(c: SnapshotComment): string {
  return c.id !== null ? `id:${c.id}` : `at:${c.author ?? ''}\u0000${c.text}`;
}

export interface CommentSnapshotSummary {
  file: string;
  collected_at: string;
  comments_collected: boolean;
  count: number | null;
  /** Sums over the comments (null when some count is hidden), mean length in characters, detected languages. */
  like_sum: number | null;
  reply_sum: number | null;
  length_mean_chars: number | null;
  languages: Record<string, number> | null;
  /** Comments not in the previous snapshot's list / gone from it; null for snapshot 1 or without comments. */
  new_since_previous: number | null;
  gone_since_previous: number | null;
}

/**
 * Per-snapshot comment statistics and what changed between consecutive snapshots (seed 002 §6.2). For analysis
 * only: later snapshots are the targets' future, so none of this enters the features.
 */
export function commentDynamics(snapshots: Snapshot[]): CommentSnapshotSummary[] {
  return snapshots.map((s, i) => {
    const previous = i > 0 ? snapshots[i - 1]!.comments : null;
    const current = s.comments;
    let added: number | null = null;
    let gone: number | null = null;
    if (previous && current) {
      const before = new Set(previous.map(commentKey));
      const now = new Set(current.map(commentKey));
      added = [...now].filter((k) => !before.has(k)).length;
      gone = [...before].filter((k) => !now.has(k)).length;
    }
    const orNull = (value: number) => (Number.isNaN(value) ? null : value);
    return {
      file: s.file,
      collected_at: s.collectedAt.toISOString(),
      comments_collected: current !== null,
      count: current?.length ?? null,
      like_sum: current ? orNull(sumKnown(current.map((c) => c.likeCount))) : null,
      reply_sum: current ? orNull(sumKnown(current.map((c) => c.replyCount))) : null,
      length_mean_chars: current ? orNull(mean(current.map((c) => [...c.text].length))) : null,
      languages: current ? detectLanguages(null, current).comments : null,
      new_since_previous: added,
      gone_since_previous: gone,
    };
  });
}
