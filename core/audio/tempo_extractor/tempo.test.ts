import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractAudio } from '../../video/audio.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import { analyseTempo, TEMPO_PARAMETERS, type TempoAnalysis } from './tempo.js';

const MEDIA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/media');
let fixtures: VideoFixtures;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
});
afterAll(async () => fixtures?.cleanup());

async function tempoOf(file: string): Promise<TempoAnalysis> {
  const audio = await extractAudio(file, { sampleRate: TEMPO_PARAMETERS.sampleRate });
  return analyseTempo(audio.samples);
}

describe('tempo of generated click tracks (12 s each)', () => {
  it.each([60, 90, 120, 150, 174])('%i BPM within ±2 %, no octave error, every window too', async (bpm) => {
    const result = await tempoOf(await fixtures.clickTrack(bpm, 12));
    // an octave error (half or double) is off by 50 % or 100 %: outside ±2 % and so a failure
    expect(Math.abs(result.bpm / bpm - 1)).toBeLessThan(0.02);
    expect(result.estimates[0]).toBe(result.bpm);
    expect(result.confidence).toBeGreaterThan(0.6);
    expect(result.warnings).toEqual([]);
    expect(result.windowBpm.length).toBe(3);
    for (const windowBpm of result.windowBpm) expect(Math.abs(windowBpm / bpm - 1)).toBeLessThan(0.02);
    // window centres: 8 s windows every 2 s
    expect(result.windowTimesSec[0]).toBeCloseTo(4, 1);
    expect(result.windowTimesSec[1]! - result.windowTimesSec[0]!).toBeCloseTo(2, 1);
    // one click per beat
    expect(result.onsetRatePerSec).toBeCloseTo(bpm / 60, 0);
  });
});

describe('tempo of real recordings', () => {
  it('Vibe_Ace (61 s of jazz): a clear beat at about 130 BPM', async () => {
    const result = await tempoOf(path.join(MEDIA, 'librosa_Kevin_MacLeod_-_Vibe_Ace.hq.ogg'));
    // the estimate this method gives (README.md, "Measured"); no annotation exists to check it against
    expect(result.bpm).toBeGreaterThan(127);
    expect(result.bpm).toBeLessThan(133);
    expect(result.confidence).toBeGreaterThanOrEqual(TEMPO_PARAMETERS.minConfidence);
    expect(result.warnings.some((w) => w.startsWith('no clear beat'))).toBe(false);
    expect(result.windowBpm.filter(Number.isFinite).length).toBeGreaterThan(result.windowBpm.length / 2);
  });

  it('speech (an audiobook reading) gets a low confidence, a "no clear beat" warning and no windowed tempo', async () => {
    const result = await tempoOf(path.join(MEDIA, 'librosa_5703-47212-0000.hq.ogg'));
    expect(result.confidence).toBeLessThan(0.15);
    expect(result.warnings).toEqual([expect.stringMatching(/^no clear beat: the tempo confidence 0\.\d\d is below 0\.3$/)]);
    expect(result.windowBpm.every(Number.isNaN)).toBe(true);
  });
});
