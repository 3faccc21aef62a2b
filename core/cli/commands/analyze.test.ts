/**
 * `trendflow analyze`'s model pre-flight, in process: a batch whose profile needs a model the models dir lacks
 * prints one line per missing file (with the command that fetches it) once, not once per video, and analyses
 * nothing. The analyses themselves are tested end to end in test/e2e/analyze.test.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareClipModelsDir } from '../../../test/helpers/clip-models.js';
import { runCliInProcess } from '../../../test/helpers/cli.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { VideoFixtures } from '../../../test/helpers/video-fixtures.js';

const tmp = useTempDirs('cli-analyze-');
let fixtures: VideoFixtures;

beforeAll(async () => {
  fixtures = await VideoFixtures.create();
});

afterAll(async () => {
  await fixtures?.cleanup();
});

describe('trendflow analyze with a required model missing', () => {
  it('prints each missing model once with its fetch command, exits 1 and analyses none of the videos', async () => {
    const work = await tmp();
    // the generated CLIP-contract encoders and the vocabulary: the built-in quick profile's real CLIP towers are absent
    const { modelsDir } = await prepareClipModelsDir(work);
    const workspace = path.join(work, 'workspace');
    const videos = [await fixtures.colors(), await fixtures.tone128x72()];
    const { code, stdout, stderr } = await runCliInProcess('analyze', ...videos, '--profile', 'quick', '--store', workspace, '--models-dir', modelsDir, '--json');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const fetch = (id: string) => `run \`npx trendflow models fetch ${id} --models-dir ${modelsDir}\``;
    expect(stderr.trimEnd().split('\n')).toEqual([
      `trendflow: model_not_found: core_clip (required): model clip-vit-b32-image file vision_model.onnx is not in ${modelsDir}: ${fetch('clip-vit-b32-image')}`,
      `trendflow: model_not_found: core_clip (required): model clip-vit-b32-text file text_model.onnx is not in ${modelsDir}: ${fetch('clip-vit-b32-text')}`,
    ]);
    // no run, no index: nothing was started
    expect(existsSync(workspace)).toBe(false);
  });
});
