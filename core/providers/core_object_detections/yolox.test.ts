import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { SHARED_MODELS_DIR } from '../../../test/helpers/shared-models.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import type { RgbImage } from '../vision/image.js';
import { openModel, type ModelContext, type OpenedModel } from '../vision/models.js';
import { readAnalysisImage, linkModels } from '../../../test/helpers/vision-models.js';
import { COCO_CLASS_NAMES } from './coco.js';
import { decodeYolox, yoloxDetector } from './yolox.js';

/** ../shared/media: real photos and clips, read in place. */
const SHARED_MEDIA_DIR = path.resolve(SHARED_MODELS_DIR, '..', 'media');
const tmp = useTempDirs('yolox-');

/** A raw YOLOX head for a 64×64 input and 2 classes: 64 + 16 + 4 rows of (cx, cy, log w, log h, obj, cls0, cls1). */
function head(cells: Array<{ row: number; values: number[] }>): Float32Array {
  const raw = new Float32Array(84 * 7);
  for (const { row, values } of cells) raw.set(values, row * 7);
  return raw;
}

describe('YOLOX decoding, NMS and letterbox mapping (hand-computed)', () => {
  it('decodes a grid cell: centre (offset + cell)·stride, size exp(·)·stride, score obj·cls of the best class', () => {
    // stride 16, cell (x 1, y 2): row 64 + 2·4 + 1 = 73
    const found = decodeYolox(head([{ row: 73, values: [0.5, 0.5, Math.log(2), 0, 0.9, 0.2, 0.8] }, { row: 0, values: [0, 0, 0, 0, 0.1, 0.9, 0] }]), 64, 64, 2, 0.3);
    expect(found).toHaveLength(1);
    expect(found[0]!.classId).toBe(1);
    expect(found[0]!.score).toBeCloseTo(0.72, 6);
    const b = found[0]!.box;
    // centre (24, 40), size 32×16
    for (const [got, want] of [[b.x1, 8], [b.y1, 32], [b.x2, 40], [b.y2, 48]] as const) expect(got).toBeCloseTo(want, 5);
  });

  it('letterboxes top-left with pad 114 in BGR, suppresses per class, and maps boxes back to the frame', async () => {
    let fed: Float32Array | undefined;
    const raw = head([
      // stride 16, cell (1, 0): box (8, 0, 40, 16) in the input, class 0, score 0.8
      { row: 65, values: [0.5, 0.5, Math.log(2), 0, 1, 0.8, 0] },
      // the same box shifted by 1 px: same class → suppressed; IoU ≈ 0.94
      { row: 66, values: [-0.5 + 1 / 16, 0.5, Math.log(2), 0, 1, 0.7, 0] },
      // the same place, class 1 → kept
      { row: 64 + 8 + 1, values: [0.5, -1.5, Math.log(2), 0, 1, 0, 0.6] },
    ]);
    const fake = {
      id: 'fake-yolox',
      used: { model_name: 'fake', model_version: '1', weights_digest: `sha256:${'0'.repeat(64)}`, runtime: 'inprocess', engine: 'onnxruntime', precision: 'fp32', device: 'cpu' },
      model: {
        inputs: [{ name: 'images', type: 'float32', shape: [1, 3, 64, 64] }],
        outputs: [{ name: 'output', type: 'float32', shape: [1, 84, 7] }],
        async run(feeds: Record<string, ort.Tensor>) {
          fed = feeds.images!.data as Float32Array;
          return { output: new ort.Tensor('float32', raw, [1, 84, 7]) };
        },
      },
    } as unknown as OpenedModel;
    // a 128×64 frame of one colour: scale 0.5, content 64×32 at the top
    const frame: RgbImage = { width: 128, height: 64, data: new Uint8Array(128 * 64 * 3) };
    for (let p = 0; p < 128 * 64; p++) frame.data.set([200, 100, 50], p * 3);
    const found = await yoloxDetector(fake, { classes: 2, scoreThreshold: 0.3, nmsIou: 0.45, maxDetections: 10 }).detect(frame);
    // planes B, G, R: the content rows carry the colour, the padded rows 114
    expect([fed![0], fed![64 * 64], fed![2 * 64 * 64]]).toEqual([50, 100, 200]);
    expect([fed![40 * 64], fed![64 * 64 + 40 * 64 + 5], fed![2 * 64 * 64 + 63 * 64 + 63]]).toEqual([114, 114, 114]);
    expect(found.map((d) => [d.classId, +d.score.toFixed(3)])).toEqual([[0, 0.8], [1, 0.6]]);
    // input box (8, 0, 40, 16) ÷ 0.5
    const b = found[0]!.box;
    for (const [got, want] of [[b.x1, 16], [b.y1, 0], [b.x2, 80], [b.y2, 32]] as const) expect(got).toBeCloseTo(want, 4);
  });
});

describe('YOLOX-nano on the group photo', () => {
  let models: ModelContext;

  afterAll(async () => {
    await models?.sessions.releaseAll();
  });

  it('finds people and the laptop', async () => {
    models = await linkModels(SHARED_MODELS_DIR, await tmp(), ['yolox-nano']);
    const opened = await openModel(models, 'yolox-nano', 'cpu');
    const found = await yoloxDetector(opened, { classes: 80, scoreThreshold: 0.3, nmsIou: 0.45, maxDetections: 100 }).detect(await readAnalysisImage(path.join(SHARED_MEDIA_DIR, 'faces', 'max_group.jpeg')));
    const names = found.map((d) => COCO_CLASS_NAMES[d.classId]);
    expect(names.filter((n) => n === 'person').length).toBeGreaterThanOrEqual(3);
    expect(names).toContain('laptop');
    const person = found.find((d) => d.classId === 0)!;
    expect(person.score).toBeGreaterThan(0.5);
    expect(person.box.x2 - person.box.x1).toBeGreaterThan(40);
  });
});
