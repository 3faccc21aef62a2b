/**
 * The versioned scene label set of scene_classification: where and what a shot shows, in the kinds of places and
 * pictures common on YouTube. Each label is scored zero-shot with one CLIP prompt. Changing a label, a prompt or
 * the order is a new SCENE_LABEL_SET_VERSION (the version keys the text-embedding cache and is in the artifact).
 */
export const SCENE_LABEL_SET_VERSION = 'scene_labels_v1';

export const SCENE_LABELS: ReadonlyArray<{ label: string; prompt: string }> = [
  { label: 'living_room', prompt: 'a photo of a living room.' },
  { label: 'kitchen', prompt: 'a photo of a kitchen.' },
  { label: 'bedroom', prompt: 'a photo of a bedroom.' },
  { label: 'office', prompt: 'a photo of an office.' },
  { label: 'classroom', prompt: 'a photo of a classroom.' },
  { label: 'tv_studio', prompt: 'a photo of a television studio.' },
  { label: 'concert_stage', prompt: 'a photo of a concert stage.' },
  { label: 'gym', prompt: 'a photo of a gym.' },
  { label: 'restaurant', prompt: 'a photo of a restaurant.' },
  { label: 'shop', prompt: 'a photo of a shop.' },
  { label: 'car_interior', prompt: 'a photo of the inside of a car.' },
  { label: 'city_street', prompt: 'a photo of a city street.' },
  { label: 'city_skyline', prompt: 'a photo of a city skyline.' },
  { label: 'road', prompt: 'a photo of a road.' },
  { label: 'park', prompt: 'a photo of a park.' },
  { label: 'forest', prompt: 'a photo of a forest.' },
  { label: 'mountains', prompt: 'a photo of mountains.' },
  { label: 'beach', prompt: 'a photo of a beach.' },
  { label: 'sea', prompt: 'a photo of the sea.' },
  { label: 'desert', prompt: 'a photo of a desert.' },
  { label: 'snow', prompt: 'a photo of a snowy landscape.' },
  { label: 'sky', prompt: 'a photo of the sky.' },
  { label: 'sports_field', prompt: 'a photo of a sports field.' },
  { label: 'underwater', prompt: 'an underwater photo.' },
  { label: 'crowd', prompt: 'a photo of a crowd of people.' },
  { label: 'person_talking', prompt: 'a photo of a person talking to the camera.' },
  { label: 'food', prompt: 'a close-up photo of food.' },
  { label: 'animal', prompt: 'a photo of an animal.' },
  { label: 'product', prompt: 'a close-up photo of a product.' },
  { label: 'screen_recording', prompt: 'a screenshot of a computer screen.' },
  { label: 'video_game', prompt: 'a screenshot of a video game.' },
  { label: 'cartoon', prompt: 'a frame of a cartoon.' },
  { label: 'text_slide', prompt: 'a slide with text.' },
];
