/**
 * The fixed, versioned shot_quality prompt set (seed 000): core_clip embeds these texts once per run so that
 * shot_quality can score frames zero-shot without loading CLIP. Changing a prompt, its wording or the order is a
 * new version: the version is in core_clip's meta and in its cache key.
 */
export const SHOT_QUALITY_PROMPT_SET_VERSION = 'shot_quality_prompts_v1';

export const SHOT_QUALITY_PROMPTS: readonly string[] = [
  'a sharp, well-focused photo',
  'a blurry, out-of-focus photo',
  'a photo with motion blur',
  'a well-lit, well-exposed photo',
  'a dark, underexposed photo',
  'a bright, overexposed, washed-out photo',
  'a high-contrast photo',
  'a flat, low-contrast photo',
  'a photo with vivid, saturated colors',
  'a dull, desaturated photo',
  'a noisy, grainy photo',
  'a clean, noise-free photo',
  'a professional high-quality video frame',
  'a low-quality amateur video frame',
  'a close-up shot of a face',
  'a wide shot of a scene',
  'a frame with text overlay',
  'a well-composed, balanced frame',
  'a cluttered, messy frame',
];
