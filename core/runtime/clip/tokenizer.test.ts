import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrendflowError } from '../../contracts/errors.js';
import { sharedModel } from '../../../test/helpers/shared-models.js';
import { CLIP_CONTEXT_LENGTH, CLIP_EOT_TOKEN, CLIP_SOT_TOKEN, ClipTokenizer, htmlUnescape } from './tokenizer.js';

const VOCAB = sharedModel('clip-bpe-vocab', 'bpe_simple_vocab_16e6.txt.gz');

/**
 * Reference ids, without SOT/EOT, as `SimpleTokenizer().encode(text)` returns them. Obtained once while developing
 * by running openai/CLIP's clip/simple_tokenizer.py (commit 0848ed7, unchanged logic) with ftfy 6.3.1 and
 * regex 2026.9.29 from PyPI in a throwaway virtualenv, on this same bpe_simple_vocab_16e6.txt.gz; they are
 * hard-coded because CI has no ftfy/regex. (A 3,000-text random fuzz and every HTML5 entity name were compared
 * the same way; the only differences left were ftfy's mojibake repair and characters newer than Python's
 * Unicode 14 database, both documented in tokenizer.ts.)
 */
const REFERENCE: [string, number[]][] = [
  ['a photo of a cat', [320, 1125, 539, 320, 2368]],
  // lowercase; a punctuation run is one piece
  ['A Photo of a CAT!!!', [320, 1125, 539, 320, 2368, 995]],
  ['Hello, world... (really?) #1 @home', [3306, 267, 1002, 678, 263, 1414, 9626, 258, 272, 287, 1137]],
  // the pattern's contractions
  [
    "it's the cat's toy; don't, we'll, they're, I'm, I've, he'd",
    [585, 568, 518, 2368, 568, 5988, 282, 847, 713, 267, 649, 1342, 267, 889, 982, 267, 328, 880, 267, 328, 1200, 267, 797, 1896],
  ],
  // digits: one token per digit (271 = "0</w>")
  ['1,000,000 views in 2024: 3.5x!', [272, 267, 271, 271, 271, 267, 271, 271, 271, 2758, 530, 273, 271, 273, 275, 281, 274, 269, 276, 343, 256]],
  ['café naïve', [15304, 1097, 35689, 563]],
  // decomposed é: ftfy's NFC makes it "café"
  ['cafe\u0301', [15304]],
  ['Привет, мир! Ёлка', [26302, 16370, 29503, 110, 22176, 141, 480, 267, 38018, 16701, 141, 478, 256, 141, 239, 47611, 27152, 27080]],
  ['東京タワーの夜景', [48338, 21078, 105, 34941, 2429, 107, 13457, 21575, 23170, 250, 48132, 363]],
  ['🐱👍🏽 cat', [35710, 43722, 2368]],
  // ftfy: full-width forms and the ﬁ ligature
  ['Ｆｕｌｌ ﬁne', [1476, 3797]],
  // ftfy: curly quotes become straight, so ’s is the 's contraction
  ['cat\u2019s \u201cbest\u201d', [2368, 568, 257, 949, 257]],
  // html.unescape twice (and ftfy's own pass): named, numeric, legacy semicolon-less prefix (&notit; → ¬it;)
  [
    '&amp; &lt;b&gt; &quot;x&quot; &#39;y&#39; &copy; &eacute;t&eacute; &notit; &#x41;',
    [261, 283, 321, 285, 257, 343, 257, 262, 344, 262, 5811, 3459, 39694, 126, 361, 585, 282, 320],
  ],
  // escaped three times: ftfy unescapes until stable, then html.unescape twice → "<3"
  ['&amp;amp;amp;lt;3', [283, 274]],
  // whitespace runs (tab, newline, NBSP, ideographic space) collapse; ends are stripped
  ['  a\t\tphoto \n of\u00a0a\u3000cat  ', [320, 1125, 539, 320, 2368]],
  // the special strings are matched in the text itself
  ['<|startoftext|>', [49406]],
  ['', []],
  // a stray U+0345 matches no branch of the pattern in Python's `regex` (IGNORECASE): dropped, splitting the word
  ['a\u0345b', [320, 321]],
];

let tok: ClipTokenizer;
beforeAll(async () => {
  tok = await ClipTokenizer.load(VOCAB);
});

function row(tokens: BigInt64Array, r: number, n = CLIP_CONTEXT_LENGTH): number[] {
  return Array.from(tokens.subarray(r * n, (r + 1) * n), Number);
}

describe('ClipTokenizer', () => {
  it('loads the real vocabulary: 49408 ids, SOT 49406, EOT 49407', () => {
    expect(tok.vocabSize).toBe(49408);
    expect(CLIP_SOT_TOKEN).toBe(49406);
    expect(CLIP_EOT_TOKEN).toBe(49407);
  });

  it('"a photo of a cat" → [49406, 320, 1125, 539, 320, 2368, 49407, 0, …] (77 long)', () => {
    const t = tok.tokenize(['a photo of a cat']);
    expect(t).toBeInstanceOf(BigInt64Array);
    expect(t.length).toBe(77);
    expect(row(t, 0)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, ...new Array<number>(70).fill(0)]);
  });

  it.each(REFERENCE)('encode(%j) equals SimpleTokenizer.encode', (text, ids) => {
    expect(tok.encode(text)).toEqual(ids);
  });

  it('tokenize is (B,77) row-major with SOT … EOT and zero padding per row', () => {
    const texts = REFERENCE.map(([t]) => t);
    const t = tok.tokenize(texts);
    expect(t.length).toBe(texts.length * 77);
    REFERENCE.forEach(([, ids], r) => {
      const expected = [CLIP_SOT_TOKEN, ...ids, CLIP_EOT_TOKEN];
      expect(row(t, r)).toEqual([...expected, ...new Array<number>(77 - expected.length).fill(0)]);
    });
  });

  it('a BPE-cached word gives the same ids again', () => {
    const first = tok.encode('photographers photographing photographs');
    expect(tok.encode('photographers photographing photographs')).toEqual(first);
    expect(tok.encode('photographers')).toEqual(first.slice(0, tok.encode('photographers').length));
  });

  it('over-long text: an invalid_argument error naming the text, unless truncate', () => {
    const text = 'a photo of a cat '.repeat(20); // 100 ids + SOT/EOT
    expect(tok.encode(text)).toHaveLength(100);
    let caught: unknown;
    try {
      tok.tokenize(['short', text]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TrendflowError);
    expect((caught as TrendflowError).code).toBe('invalid_argument');
    expect((caught as TrendflowError).message).toContain(JSON.stringify(text));
    expect((caught as TrendflowError).message).toContain('77');

    // clip.tokenize(truncate=True): the first 77 tokens, the last replaced by EOT
    const t = tok.tokenize(['short', text], { truncate: true });
    const ids = tok.encode(text);
    expect(row(t, 1)).toEqual([CLIP_SOT_TOKEN, ...ids.slice(0, 75), CLIP_EOT_TOKEN]);
    expect(row(t, 0)).toEqual([CLIP_SOT_TOKEN, ...tok.encode('short'), CLIP_EOT_TOKEN, ...new Array<number>(74).fill(0)]);
  });

  it('75 ids fit exactly; 76 do not', () => {
    const fits = Array.from({ length: 75 }, (_, i) => String(i % 10)).join(''); // one id per digit
    expect(tok.encode(fits)).toHaveLength(75);
    expect(row(tok.tokenize([fits]), 0)[76]).toBe(CLIP_EOT_TOKEN);
    expect(() => tok.tokenize([fits + '1'])).toThrow(TrendflowError);
  });

  it('contextLength option', () => {
    const t = tok.tokenize(['a photo of a cat', 'a'], { contextLength: 8 });
    expect(t.length).toBe(16);
    expect(row(t, 0, 8)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, 0]);
    expect(row(t, 1, 8)).toEqual([49406, 320, 49407, 0, 0, 0, 0, 0]);
    expect(row(tok.tokenize(['a photo of a cat'], { contextLength: 4, truncate: true }), 0, 4)).toEqual([49406, 320, 1125, 49407]);
    expect(() => tok.tokenize(['a'], { contextLength: 1 })).toThrow(TrendflowError);
  });

  it('an empty list gives an empty buffer', () => {
    expect(tok.tokenize([]).length).toBe(0);
  });

  it('a missing vocabulary file is model_not_found; a corrupt one model_load_failed', async () => {
    await expect(ClipTokenizer.load('/nonexistent/bpe_simple_vocab_16e6.txt.gz')).rejects.toMatchObject({ code: 'model_not_found' });
    const dir = await mkdtemp(path.join(tmpdir(), 'clip-vocab-'));
    try {
      const bad = path.join(dir, 'bad.txt.gz');
      await writeFile(bad, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
      await expect(ClipTokenizer.load(bad)).rejects.toMatchObject({ code: 'model_load_failed' });
      const short = path.join(dir, 'short.txt');
      await writeFile(short, '#version: 0.2\ni n\n');
      await expect(ClipTokenizer.load(short)).rejects.toMatchObject({ code: 'model_load_failed' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('htmlUnescape (Python html.unescape)', () => {
  // expectations from Python 3: html.unescape(s)
  it.each([
    ['&amp;', '&'],
    ['&amp', '&'],
    ['&ampx', '&x'],
    ['&notit;', '¬it;'],
    ['&notin;', '∉'],
    ['&foo;', '&foo;'],
    ['&#65;&#x42;&#67', 'ABC'],
    ['&#x80;', '€'],
    ['&#0;', '\ufffd'],
    ['&#1;', ''],
    ['&#xD800;', '\ufffd'],
    ['&#99999999999;', '\ufffd'],
    ['&CounterClockwiseContourIntegral;', '∳'],
    ['a & b', 'a & b'],
  ])('%j → %j', (input, expected) => {
    expect(htmlUnescape(input)).toBe(expected);
  });
});
