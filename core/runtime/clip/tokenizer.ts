/**
 * The CLIP BPE tokenizer, equal to OpenAI's `clip.tokenize` (openai/CLIP `clip/simple_tokenizer.py` and
 * `clip/clip.py`), reading the same `bpe_simple_vocab_16e6.txt.gz`.
 *
 * Pipeline of one text, as in the Python:
 *   1. `basic_clean`: ftfy.fix_text, then `html.unescape` twice, then strip.
 *      ftfy's default fix_text is reproduced except its mojibake repair (fix_encoding with restore_byte_a0,
 *      replace_lossy_sequences and decode_inconsistent_utf8, which are heuristics over the whole ftfy
 *      character-class tables): per line, until stable, its own HTML pass (`&name;`/`&#…;` only, all-caps names,
 *      skipped from the first line containing `<` on), C1 controls read as Windows-1252, Latin ligatures (ﬁ → fi),
 *      half/full-width forms (ＡＢ → AB, U+3000 → space), curly quotes → straight, ANSI terminal escapes and
 *      unintended control characters removed, NFC. So text that ftfy would repair as mojibake (e.g. "cafÃ©")
 *      tokenizes differently here. `html.unescape` is reproduced exactly: numeric references with Python's
 *      replacement tables, named ones through the `entities` package (the WHATWG table Python's html5 dict is).
 *   2. `whitespace_clean`: runs of whitespace → one space, strip; whitespace is Python's (`regex` \s =
 *      Unicode White_Space, `str.strip` = `str.isspace`), not JavaScript's (which adds U+FEFF, lacks U+0085).
 *   3. lowercase (JS `toLowerCase`, the same full Unicode mapping as Python's `str.lower`).
 *   4. split with CLIP's pattern; each piece → UTF-8 bytes → `bytes_to_unicode` characters → BPE merges → ids.
 *      `\p{L}`/`\p{N}` come from Node's ICU, so letters added in Unicode versions newer than Python's may split
 *      differently; nothing else differs.
 * `tokenize` wraps each text in SOT 49406 … EOT 49407 and zero-pads to the context length (77), as clip.tokenize.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { decodeHTML, DecodingMode } from 'entities';
import { TrendflowError } from '../../contracts/errors.js';

export const CLIP_SOT_TOKEN = 49406;
export const CLIP_EOT_TOKEN = 49407;
export const CLIP_CONTEXT_LENGTH = 77;
/** Vocabulary size of bpe_simple_vocab_16e6: 256 bytes + 256 bytes with `</w>` + 48894 merges + 2 specials. */
export const CLIP_VOCAB_SIZE = 49408;
const MERGE_COUNT = 49152 - 256 - 2; // `merges[1:49152-256-2+1]`

const SOT = '<|startoftext|>';
const EOT = '<|endoftext|>';

/** Entries the per-word BPE cache keeps before it is cleared (Python's cache is unbounded). */
const BPE_CACHE_LIMIT = 50_000;

// ---------------------------------------------------------------------------------------------------------------
// bytes_to_unicode

/** GPT-2/CLIP byte → printable character table (simple_tokenizer.bytes_to_unicode). */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  for (let i = 0; i < bs.length; i++) table[bs[i]!] = String.fromCodePoint(cs[i]!);
  return table;
}

/** The table's values in Python's dict insertion order (the order the vocabulary lists them). */
function bytesToUnicodeValuesInOrder(): string[] {
  const order: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) order.push(b);
  for (let b = 0xa1; b <= 0xac; b++) order.push(b);
  for (let b = 0xae; b <= 0xff; b++) order.push(b);
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
  const table = bytesToUnicode();
  return order.map((b) => table[b]!);
}

const BYTE_ENCODER = bytesToUnicode();

// ---------------------------------------------------------------------------------------------------------------
// text cleaning

const LIGATURES: Record<string, string> = {
  'Ĳ': 'IJ', 'ĳ': 'ij', 'ŉ': 'ʼn', 'Ǳ': 'DZ', 'ǲ': 'Dz', 'ǳ': 'dz', 'Ǆ': 'DŽ', 'ǅ': 'Dž', 'ǆ': 'dž',
  'Ǉ': 'LJ', 'ǈ': 'Lj', 'ǉ': 'lj', 'Ǌ': 'NJ', 'ǋ': 'Nj', 'ǌ': 'nj',
  'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'ſt', 'ﬆ': 'st',
};
const LIGATURE_RE = /[ĲĳŉǱǲǳǄǅǆǇǈǉǊǋǌﬀﬁﬂﬃﬄﬅﬆ]/g;
/** ftfy.fix_c1_controls: U+0080..U+009F read as Windows-1252 (undefined bytes stay). */
const C1_RE = /[\x80-\x9f]/g;
/** ftfy.fix_character_width: U+3000 → space, U+FF01..U+FFEF → their NFKC form. */
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
const TERMINAL_ESCAPE_RE = /\x1b\[((?:\d|;)*)([a-zA-Z])/g;
const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;
// ftfy.remove_control_chars: U+00–08, 0B, 0E–1F, 7F, 206A–206F, FEFF, FFF9–FFFC
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
/** Printable ASCII and tab/newline/CR without `&`: ftfy leaves such text as it is. */
const PLAIN_ASCII_RE = /^[\t\n\r\x20-\x25\x27-\x7e]*$/;
/** ftfy.fixes.unescape_html: only `&…;` references, with a semicolon. */
const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;

/**
 * ftfy.fixes.unescape_html: HTML5 names ending in `;`, numeric references that `html.unescape` decodes whole, and
 * the all-caps spelling of lowercase names that are not themselves references (`&EACUTE;` → É).
 */
function ftfyUnescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(FTFY_ENTITY_RE, (ref) => {
    if (ref.startsWith('&#')) {
      const decoded = htmlUnescape(ref);
      return decoded.includes(';') ? ref : decoded;
    }
    const exact = decodeHTML(ref, DecodingMode.Strict);
    if (exact !== ref) return exact;
    const lower = ref.toLowerCase();
    if (lower !== ref && lower.toUpperCase() === ref && htmlUnescape(ref) === ref) {
      const decoded = decodeHTML(lower, DecodingMode.Strict);
      if (decoded !== lower) return decoded.toUpperCase();
    }
    return ref;
  });
}

/** One pass of ftfy's per-segment fixes, fix_encoding excepted. */
function ftfyPass(text: string, unescape: boolean): string {
  let t = unescape ? ftfyUnescapeHtml(text) : text;
  t = t
    .replace(C1_RE, (c) => INVALID_CHARREFS[c.charCodeAt(0)]!)
    .replace(LIGATURE_RE, (c) => LIGATURES[c]!)
    .replace(WIDTH_RE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')))
    .replace(DOUBLE_QUOTE_RE, '"')
    .replace(SINGLE_QUOTE_RE, "'")
    .replace(TERMINAL_ESCAPE_RE, '')
    .replace(CONTROL_RE, '');
  return t.normalize('NFC');
}

/**
 * ftfy.fix_text with its default settings, except the mojibake repair (fix_encoding and its helpers): line by
 * line, each line fixed until stable; HTML references are decoded by ftfy only until a line contains `<`.
 */
export function ftfyLite(text: string): string {
  if (PLAIN_ASCII_RE.test(text)) return text; // nothing for any of the fixes to change
  let unescape = true;
  let out = '';
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    let segment = text.slice(pos, end);
    if (unescape && segment.includes('<')) unescape = false;
    for (;;) {
      const fixed = ftfyPass(segment, unescape);
      if (fixed === segment) break;
      segment = fixed;
    }
    out += segment;
    pos = end;
  }
  return out;
}

/** Python html._invalid_charrefs: numeric references replaced as the HTML5 spec says (mostly Windows-1252). */
const INVALID_CHARREFS: Record<number, string> = {
  0x00: '\ufffd', 0x0d: '\r', 0x80: '\u20ac', 0x81: '\x81', 0x82: '\u201a', 0x83: '\u0192', 0x84: '\u201e',
  0x85: '\u2026', 0x86: '\u2020', 0x87: '\u2021', 0x88: '\u02c6', 0x89: '\u2030', 0x8a: '\u0160', 0x8b: '\u2039',
  0x8c: '\u0152', 0x8d: '\x8d', 0x8e: '\u017d', 0x8f: '\x8f', 0x90: '\x90', 0x91: '\u2018', 0x92: '\u2019',
  0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022', 0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc', 0x99: '\u2122',
  0x9a: '\u0161', 0x9b: '\u203a', 0x9c: '\u0153', 0x9d: '\x9d', 0x9e: '\u017e', 0x9f: '\u0178',
};

/** Python html._invalid_codepoints: numeric references to these decode to nothing. */
function isInvalidCodepoint(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) ||
    cp === 0xb ||
    (cp >= 0xe && cp <= 0x1f) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) ||
    (cp & 0xfffe) === 0xfffe // U+xFFFE and U+xFFFF of every plane
  );
}

const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

/** Python's `html.unescape`, exactly (numeric references by its tables, named ones by the WHATWG list). */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF_RE, (_match, s: string) => {
    if (s.startsWith('#')) {
      const hex = s[1] === 'x' || s[1] === 'X';
      const digits = s.slice(hex ? 2 : 1).replace(/;$/, '');
      const num = parseInt(digits, hex ? 16 : 10);
      const fixed = INVALID_CHARREFS[num];
      if (fixed !== undefined) return fixed;
      if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
      if (isInvalidCodepoint(num)) return '';
      return String.fromCodePoint(num);
    }
    // named: the whole name if known, else its longest prefix among the legacy (semicolon-less) names; the
    // WHATWG decoder in text ("legacy") mode resolves exactly that way
    return decodeHTML('&' + s, DecodingMode.Legacy);
  });
}

/** Python's `str.isspace` set (what `str.strip()` removes). */
const PY_STRIP_RE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
/** The `regex` module's `\s` (Unicode White_Space). */
const PY_WHITESPACE_RUN_RE = /[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

function pyStrip(text: string): string {
  return text.replace(PY_STRIP_RE, '');
}

/** simple_tokenizer.basic_clean + whitespace_clean + lower(): the text the pattern splits. */
export function cleanClipText(text: string): string {
  let t = ftfyLite(text);
  t = htmlUnescape(htmlUnescape(t));
  t = pyStrip(t);
  t = pyStrip(t.replace(PY_WHITESPACE_RUN_RE, ' '));
  // U+0345 (combining ypogegrammeni, a stray one that NFC could not attach) is matched by no branch of the
  // pattern in Python's `regex` under IGNORECASE (it case-folds to a letter but is not one), so it is dropped
  // and splits words; JS's /iu would glue it into a letter run. A space does what Python does.
  return t.toLowerCase().replace(/\u0345/g, ' ');
}

/** CLIP's split pattern (the Python compiles it with IGNORECASE; the text is already lowercase). */
const TOKEN_RE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
// JS `\s` inside the last class differs from Python's only in U+FEFF (removed by cleaning) and U+0085 (a
// whitespace run, so collapsed to a space by then): the split is the same.

// ---------------------------------------------------------------------------------------------------------------
// the tokenizer

export interface ClipTokenizeOptions {
  /** Tokens per row, SOT and EOT included (CLIP: 77). */
  contextLength?: number;
  /** Cut over-long texts to the context length, keeping EOT as the last token; otherwise they are an error. */
  truncate?: boolean;
}

export class ClipTokenizer {
  private readonly cache = new Map<string, number[]>();
  private readonly utf8 = new TextEncoder();

  private constructor(
    /** token string → id */
    private readonly encoder: Map<string, number>,
    /** "first second" → merge rank */
    private readonly ranks: Map<string, number>,
  ) {}

  /** Reads `bpe_simple_vocab_16e6.txt.gz` (gzip; the raw text is accepted too). */
  static async load(vocabGzPath: string): Promise<ClipTokenizer> {
    let raw: Buffer;
    try {
      raw = await readFile(vocabGzPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'model_not_found' : 'file_read_failed';
      throw new TrendflowError(code, `cannot read the CLIP BPE vocabulary: ${(err as Error).message}`, { path: vocabGzPath, cause: err });
    }
    let text: string;
    try {
      const isGzip = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
      text = new TextDecoder('utf-8', { fatal: true }).decode(isGzip ? gunzipSync(raw) : raw);
    } catch (err) {
      throw new TrendflowError('model_load_failed', `the CLIP BPE vocabulary is not gzip-compressed UTF-8 text: ${(err as Error).message}`, { path: vocabGzPath, cause: err });
    }
    return ClipTokenizer.fromMergesText(text, vocabGzPath);
  }

  /** Builds the tokenizer from the decompressed vocabulary text (line 0 is a header; merges follow). */
  static fromMergesText(text: string, source = 'the CLIP BPE vocabulary'): ClipTokenizer {
    const lines = text.split('\n');
    if (lines.length < MERGE_COUNT + 1) {
      throw new TrendflowError('model_load_failed', `${source} has ${lines.length} lines; the CLIP vocabulary needs ${MERGE_COUNT + 1}`, { path: source });
    }
    const vocab = bytesToUnicodeValuesInOrder();
    for (let i = 0; i < 256; i++) vocab.push(vocab[i]! + '</w>');
    const ranks = new Map<string, number>();
    for (let i = 0; i < MERGE_COUNT; i++) {
      // Python: tuple(merge.split()) — any whitespace; a merge is always two symbols
      const parts = lines[i + 1]!.trim().split(/\s+/);
      if (parts.length !== 2) {
        throw new TrendflowError('model_load_failed', `${source}: merge line ${i + 2} is not two symbols: ${JSON.stringify(lines[i + 1])}`, { path: source });
      }
      ranks.set(parts[0]! + ' ' + parts[1]!, i);
      vocab.push(parts[0]! + parts[1]!);
    }
    vocab.push(SOT, EOT);
    const encoder = new Map<string, number>();
    // dict(zip(vocab, range(len(vocab)))): a repeated string keeps its last id
    for (let i = 0; i < vocab.length; i++) encoder.set(vocab[i]!, i);
    if (encoder.get(SOT) !== CLIP_SOT_TOKEN || encoder.get(EOT) !== CLIP_EOT_TOKEN) {
      throw new TrendflowError('model_load_failed', `${source} does not give SOT ${CLIP_SOT_TOKEN} / EOT ${CLIP_EOT_TOKEN}`, { path: source });
    }
    return new ClipTokenizer(encoder, ranks);
  }

  /** Number of ids (49408 for bpe_simple_vocab_16e6). */
  get vocabSize(): number {
    return this.encoder.size;
  }

  /** Token ids of one text, without SOT/EOT (SimpleTokenizer.encode). */
  encode(text: string): number[] {
    const ids: number[] = [];
    const cleaned = cleanClipText(text);
    for (const match of cleaned.matchAll(TOKEN_RE)) {
      const piece = match[0];
      if (piece === SOT) {
        ids.push(CLIP_SOT_TOKEN);
        continue;
      }
      if (piece === EOT) {
        ids.push(CLIP_EOT_TOKEN);
        continue;
      }
      let word = '';
      for (const byte of this.utf8.encode(piece)) word += BYTE_ENCODER[byte]!;
      for (const id of this.bpe(word)) ids.push(id);
    }
    return ids;
  }

  /**
   * clip.tokenize: one row per text, `[SOT, …ids, EOT, 0, …]`, as a row-major (texts.length, contextLength)
   * int64 buffer. A text longer than the context is an `invalid_argument` error unless `truncate`.
   */
  tokenize(texts: string | readonly string[], opts: ClipTokenizeOptions = {}): BigInt64Array {
    const list = typeof texts === 'string' ? [texts] : texts;
    const contextLength = opts.contextLength ?? CLIP_CONTEXT_LENGTH;
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new TrendflowError('invalid_argument', `CLIP context length must be an integer ≥ 2, got ${contextLength}`);
    }
    const out = new BigInt64Array(list.length * contextLength);
    list.forEach((text, row) => {
      const ids = this.encode(text);
      let n = ids.length + 2;
      if (n > contextLength) {
        if (!opts.truncate) {
          throw new TrendflowError(
            'invalid_argument',
            `Input ${JSON.stringify(text)} is too long for context length ${contextLength} (${n} tokens with SOT/EOT)`,
          );
        }
        n = contextLength;
      }
      const base = row * contextLength;
      out[base] = BigInt(CLIP_SOT_TOKEN);
      for (let i = 1; i < n - 1; i++) out[base + i] = BigInt(ids[i - 1]!);
      out[base + n - 1] = BigInt(CLIP_EOT_TOKEN);
    });
    return out;
  }

  /** BPE of one byte-encoded piece, as ids; cached per piece. */
  private bpe(token: string): number[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const symbols = Array.from(token); // byte characters are all in the BMP, one code unit each
    symbols[symbols.length - 1] += '</w>';
    let word = symbols;
    while (word.length > 1) {
      // the lowest-ranked adjacent pair
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(word[i]! + ' ' + word[i + 1]!);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // merge every occurrence, left to right, non-overlapping (as the Python loop does)
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    const ids = word.map((w) => {
      const id = this.encoder.get(w);
      if (id === undefined) throw new TrendflowError('internal_error', `CLIP BPE produced ${JSON.stringify(w)}, which is not in the vocabulary`);
      return id;
    });
    if (this.cache.size >= BPE_CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, ids);
    return ids;
  }
}
