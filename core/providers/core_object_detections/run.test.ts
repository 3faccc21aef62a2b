import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrendflowError } from '../../contracts/errors.js';
import { getArray, getMeta, getStringList, readNpzFile } from '../../npz/index.js';
import { componentDefinition } from '../../pipeline/registry.js';
import { validateNpzFile } from '../../schema/index.js';
import { segmentVideo } from '../../segmenter/segment.js';
import { standaloneRunContext } from '../../../test/helpers/run-context.js';
import { sampleIdentity } from '../../../test/helpers/manifest.js';
import { numpyAvailableOrCi, runPython } from '../../../test/helpers/python.js';
import { SHARED_MODELS_DIR } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';
import type { ModelContext } from '../vision/models.js';
import { linkModels } from '../../../test/helpers/vision-models.js';
import { COCO_CLASS_NAMES, DEFAULT_CORE_OBJECT_DETECTIONS_CONFIG, runCoreObjectDetections, type CoreObjectDetectionsConfig } from './index.js';

/** ../shared/media: real photos and clips, read in place. */
const SHARED_MEDIA_DIR = path.resolve(SHARED_MODELS_DIR, '..', 'media');
const tmp = useTempDirs('core-object-detections-');
let fixtures: VideoFixtures;
let models: ModelContext;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
  models = await linkModels(SHARED_MODELS_DIR, await tmp(), ['yolox-nano']);
});

afterAll(async () => {
  await models?.sessions.releaseAll();
  await fixtures?.cleanup();
});

describe('core_object_detections on the group photo (1 s), then grey (1 s)', () => {
  let runDir: string;
  let file: string;

  beforeAll(async () => {
    const video = await fixtures.photoThenGrey(path.join(SHARED_MEDIA_DIR, 'faces', 'max_group.jpeg'), 1, 1);
    const framesDir = path.join(await tmp(), 'frames');
    await segmentVideo(video, { outDir: framesDir, components: ['core_object_detections'], analysisFps: 2 });
    const definition = componentDefinition('core_object_detections');
    const config = definition.parseConfig({ max_detections: 20 }) as CoreObjectDetectionsConfig;
    runDir = await tmp();
    const ctx = await standaloneRunContext({ videoPath: video, identity: sampleIdentity(), runDir, models, batchSize: definition.batching!(config).fixed });
    const outcome = await definition.run({ ...ctx, framesDir }, config);
    expect(outcome).toMatchObject({ status: 'ok', empty_reason: null, device_used: 'cpu' });
    expect(outcome.models_used.map((m) => m.model_name)).toEqual(['Kazuhito00/Image-Processing-Node-Editor']);
    file = path.join(runDir, 'core_object_detections', 'detections.npz');
  });

  it('writes a valid artifact: people on the photo frames, nothing on the grey ones, counts consistent', async () => {
    expect((await validateNpzFile(file)).problems).toEqual([]);
    const npz = await readNpzFile(file);
    const n = getArray(npz, 'frame_indices', 'int32').shape[0]!;
    expect(n).toBe(4);
    const counts = Array.from(getArray(npz, 'detection_counts', 'int32').data);
    const classCounts = getArray(npz, 'class_counts', 'int32').data;
    const present = getArray(npz, 'detection_present', 'bool').data;
    const ids = getArray(npz, 'class_ids', 'int32').data;
    const boxes = getArray(npz, 'boxes', 'float32').data;
    const scores = getArray(npz, 'scores', 'float32').data;
    expect(getStringList(npz, 'class_names')).toEqual([...COCO_CLASS_NAMES]);
    expect(counts[0]).toBeGreaterThanOrEqual(3);
    expect(counts.slice(2)).toEqual([0, 0]);
    for (let p = 0; p < n; p++) {
      expect(classCounts.subarray(p * 80, (p + 1) * 80).reduce((a, b) => a + b, 0)).toBe(counts[p]);
      for (let s = 0; s < 20; s++) {
        const slot = p * 20 + s;
        expect(present[slot]).toBe(s < counts[p]! ? 1 : 0);
        if (present[slot]) {
          const [x1, y1, x2, y2] = boxes.subarray(slot * 4, slot * 4 + 4);
          expect(0 <= x1! && x1! < x2! && x2! <= 1 && 0 <= y1! && y1! < y2! && y2! <= 1).toBe(true);
          if (s > 0) expect(scores[slot]).toBeLessThanOrEqual(scores[slot - 1]!);
        } else {
          expect(ids[slot]).toBe(-1);
          expect(Number.isNaN(scores[slot]!)).toBe(true);
        }
      }
    }
    expect(classCounts[0]).toBeGreaterThanOrEqual(3); // people in frame 0
    expect(getMeta(npz)).toMatchObject({ producer: 'core_object_detections', status: 'ok', batch_size: 16, model: 'yolox-nano', max_detections: 20 });
  });

  it('loads in NumPy', { skip: !numpyAvailableOrCi }, () => {
    const out = runPython(
      `import sys, json, numpy as np
z = np.load(sys.argv[1], allow_pickle=True)
names = list(z['class_names']); people = z['class_counts'][:, names.index('person')]
print(json.dumps({'boxes': list(z['boxes'].shape), 'people': people.tolist(), 'nan_ok': bool(np.isnan(z['boxes'][~z['detection_present']]).all()),
  'counts': z['detection_counts'].tolist(), 'sum': z['detection_present'].sum(axis=1).tolist(), 'meta': z['meta'].item()['model']}))`,
      [file],
    );
    const parsed = JSON.parse(out) as { people: number[]; counts: number[]; sum: number[] } & Record<string, unknown>;
    expect(parsed).toMatchObject({ boxes: [4, 20, 4], nan_ok: true, meta: 'yolox-nano' });
    expect(parsed.people[0]).toBeGreaterThanOrEqual(3);
    expect(parsed.sum).toEqual(parsed.counts);
  });
});

describe('core_object_detections errors', () => {
  it('needs its sampled frames and its model', async () => {
    const framesDir = path.join(await tmp(), 'frames');
    await segmentVideo(await fixtures.colors(), { outDir: framesDir, components: ['core_clip'], analysisFps: 2 });
    const code = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => (isTrendflowError(e) ? e.code : String(e)));
    const ctx = { identity: sampleIdentity(), runDir: await tmp(), framesDir, models };
    expect(await code(runCoreObjectDetections(ctx, DEFAULT_CORE_OBJECT_DETECTIONS_CONFIG, 4))).toBe('sampling_missing');
    expect(await code(runCoreObjectDetections({ ...ctx, models: { ...models, modelsDir: await tmp() } }, DEFAULT_CORE_OBJECT_DETECTIONS_CONFIG, 4))).toBe('model_not_found');
    // a model without YOLOX's inputs and outputs is refused before any frame is read
    const yunet = await linkModels(SHARED_MODELS_DIR, await tmp(), ['yunet-2023mar'], models.sessions);
    expect(await code(runCoreObjectDetections({ ...ctx, models: yunet }, { ...DEFAULT_CORE_OBJECT_DETECTIONS_CONFIG, model: 'yunet-2023mar' }, 4))).toBe('model_load_failed');
  });
});
