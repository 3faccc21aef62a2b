/**
 * Zero-shot quality scores from core_clip's artifact (no CLIP is loaded here, seed 000): cosine similarity of each
 * frame embedding with each shot_quality prompt embedding, and for antonym prompt pairs the probability CLIP gives
 * the positive prompt against the negative one, softmax(100 · [s+, s−])₀ (CLIP-IQA, Wang, Chan & Loy 2023).
 */

/** CLIP's logit scale (exp of the learned temperature of OpenAI CLIP, 100). */
export const CLIP_LOGIT_SCALE = 100;

/** Antonym prompt pairs of the shot_quality prompt set (core_clip prompts.ts, shot_quality_prompts_v1). */
export const CLIP_SCORE_PAIRS: ReadonlyArray<{ name: string; positive: string; negative: string }> = [
  { name: 'clip_sharp', positive: 'a sharp, well-focused photo', negative: 'a blurry, out-of-focus photo' },
  { name: 'clip_no_motion_blur', positive: 'a sharp, well-focused photo', negative: 'a photo with motion blur' },
  { name: 'clip_well_exposed', positive: 'a well-lit, well-exposed photo', negative: 'a dark, underexposed photo' },
  { name: 'clip_not_overexposed', positive: 'a well-lit, well-exposed photo', negative: 'a bright, overexposed, washed-out photo' },
  { name: 'clip_contrast', positive: 'a high-contrast photo', negative: 'a flat, low-contrast photo' },
  { name: 'clip_colourful', positive: 'a photo with vivid, saturated colors', negative: 'a dull, desaturated photo' },
  { name: 'clip_clean', positive: 'a clean, noise-free photo', negative: 'a noisy, grainy photo' },
  { name: 'clip_professional', positive: 'a professional high-quality video frame', negative: 'a low-quality amateur video frame' },
  { name: 'clip_composed', positive: 'a well-composed, balanced frame', negative: 'a cluttered, messy frame' },
];

/**
 * Similarities (rows × prompts) of L2-normalized frame embeddings (rows × dim) with prompt embeddings
 * (prompts × dim), and the pair scores (rows × pairs); a pair whose prompts the artifact lacks is NaN.
 */
export function clipScores(
  frames: Float32Array,
  rows: number,
  texts: Float32Array,
  prompts: readonly string[],
  dim: number,
): { similarity: Float32Array; scores: Float32Array } {
  const similarity = new Float32Array(rows * prompts.length);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < prompts.length; p++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += frames[r * dim + k]! * texts[p * dim + k]!;
      similarity[r * prompts.length + p] = dot;
    }
  }
  const scores = new Float32Array(rows * CLIP_SCORE_PAIRS.length);
  CLIP_SCORE_PAIRS.forEach((pair, q) => {
    const pos = prompts.indexOf(pair.positive);
    const neg = prompts.indexOf(pair.negative);
    for (let r = 0; r < rows; r++) {
      const at = r * CLIP_SCORE_PAIRS.length + q;
      if (pos < 0 || neg < 0) scores[at] = Number.NaN;
      else scores[at] = 1 / (1 + Math.exp(-CLIP_LOGIT_SCALE * (similarity[r * prompts.length + pos]! - similarity[r * prompts.length + neg]!)));
    }
  });
  return { similarity, scores };
}
