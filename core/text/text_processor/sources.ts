/**
 * The texts text_processor reads from the metadata JSON (`--meta`, docs/SNAPSHOTS.md): title, description, tags,
 * chapters, declared language, and subtitles / automatic captions. A field of the wrong type is `metadata_invalid`
 * naming the key; an absent field is simply missing.
 */
import { TrendflowError } from '../../contracts/errors.js';

export interface SubtitleTracks {
  /** Languages that have a track. */
  languages: string[];
  /** The text of the tracks that carry it (yt-dlp lists only URLs: then there is no text here). */
  text: string | null;
}

export interface MetadataText {
  title: string | null;
  description: string | null;
  tags: string[];
  /** Chapter titles in order. */
  chapters: string[];
  /** The declared language reduced to its primary subtag (`en-US` → `en`). */
  declaredLanguage: string | null;
  subtitles: SubtitleTracks;
  automaticCaptions: SubtitleTracks;
}

function invalid(file: string, key: string, message: string): TrendflowError {
  return new TrendflowError('metadata_invalid', message, { path: file, key });
}

function optionalString(metadata: Record<string, unknown>, key: string, file: string): string | null {
  const value = metadata[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(file, key, `${key} must be a string, got ${JSON.stringify(value).slice(0, 80)}`);
  return value;
}

/**
 * Subtitle tracks: `{ "<language>": <track> }` where a track is yt-dlp's list of formats (`[{ext, url, name}]`:
 * available, no text), a string, a list of strings, or a list of cues with a `text` field.
 */
function subtitleTracks(metadata: Record<string, unknown>, key: string, file: string): SubtitleTracks {
  const value = metadata[key];
  if (value === undefined || value === null) return { languages: [], text: null };
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(file, key, `${key} must map languages to tracks`);
  const texts: string[] = [];
  for (const [language, track] of Object.entries(value as Record<string, unknown>)) {
    if (typeof track === 'string') texts.push(track);
    else if (Array.isArray(track)) {
      for (const item of track) {
        if (typeof item === 'string') texts.push(item);
        else if (item && typeof item === 'object' && typeof (item as { text?: unknown }).text === 'string') texts.push((item as { text: string }).text);
      }
    } else throw invalid(file, `${key}.${language}`, `${key}.${language} must be a track (a list or a string)`);
  }
  const text = texts.join(' ').trim();
  return { languages: Object.keys(value as object).sort(), text: text.length > 0 ? text : null };
}

export function metadataText(metadata: Record<string, unknown>, file: string): MetadataText {
  const tags = metadata.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw invalid(file, 'tags', 'tags must be a list of strings');
  const chapters = metadata.chapters ?? [];
  if (!Array.isArray(chapters)) throw invalid(file, 'chapters', 'chapters must be a list');
  const chapterTitles = chapters.map((chapter: unknown, i) => {
    const title = (chapter as { title?: unknown } | null)?.title;
    if (typeof title !== 'string') throw invalid(file, `chapters[${i}].title`, `chapters[${i}] must have a string title`);
    return title;
  });
  const declared = optionalString(metadata, 'language', file) ?? optionalString(metadata, 'defaultLanguage', file) ?? optionalString(metadata, 'defaultAudioLanguage', file);
  return {
    title: optionalString(metadata, 'title', file),
    description: optionalString(metadata, 'description', file),
    tags: tags as string[],
    chapters: chapterTitles,
    declaredLanguage: declared ? declared.toLowerCase().split(/[-_]/)[0]! : null,
    subtitles: subtitleTracks(metadata, 'subtitles', file),
    automaticCaptions: subtitleTracks(metadata, 'automatic_captions', file),
  };
}
