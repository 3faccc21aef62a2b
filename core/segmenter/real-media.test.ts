import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { FrameManager } from './frame-manager.js';
import { FRAME_COMPONENTS } from './policy.js';
import { segmentVideo } from './segment.js';

/** Real clips from ../shared/media (read-only; never copied into the repository). */
const MEDIA = new URL('../../../shared/media/', import.meta.url);
const SINTEL = new URL('zwm_clip_03_sintel.mp4', MEDIA).pathname;
const GRID = new URL('grid_bbaf2n.mpg', MEDIA).pathname;
const present = existsSync(SINTEL) && existsSync(GRID);
const tmp = useTempDirs('segment-real-');

/**
 * Hard cuts of the Sintel clip on the 12 fps analysis timeline, checked by eye on a contact sheet of all 120
 * analysis frames (and by ffmpeg's scene score): the first frame of each new shot. 38 and 40 are a whip pan and a
 * cut two frames apart; 88 and 90 likewise.
 */
const SINTEL_CUTS = [29, 38, 40, 48, 59, 70, 88, 90, 105];

describe.skipIf(!present && !process.env.CI)('segmentVideo on real media', () => {
  it('Sintel clip (640x360 H.264, 24 fps, 10 s, many hard cuts)', async () => {
    const outDir = path.join(await tmp(), 'sintel');
    const { metadata: meta } = await segmentVideo(SINTEL, { outDir, durable: false });
    expect(meta.source).toMatchObject({ codec: 'h264', width: 640, height: 360, fps: 24, has_audio: false, rotation_deg: 0 });
    expect([meta.analysis_width, meta.analysis_height, meta.analysis_fps]).toEqual([640, 360, 12]);
    expect(meta.below_min_resolution).toBe(false);
    expect(meta.analysis_frame_count).toBe(120);
    // a 10 s video: every analysis frame is in the union
    expect(meta.frame_count).toBe(120);
    expect(meta.components).toEqual(FRAME_COMPONENTS);
    const found = meta.cheap_signals.cut_candidates.map((c) => c.index);
    // the clear cuts are found to the frame; nothing far from a real cut
    for (const cut of [29, 48, 59, 70, 90, 105]) expect(found, `cut at ${cut}`).toContain(cut);
    for (const f of found) expect(SINTEL_CUTS.some((c) => Math.abs(c - f) <= 1), `candidate ${f}`).toBe(true);
    expect(found.length).toBeGreaterThanOrEqual(6);
    expect(found.length).toBeLessThanOrEqual(12);
    const frames = await FrameManager.open(outDir);
    expect(frames.count).toBe(120);
    expect((await frames.get(119)).data.length).toBe(640 * 360 * 3);
    await frames.close();
  });

  it('GRID talking head (MPEG-1 in MPEG-PS, odd 360x288, MP2 audio): kept at its size, no cuts', async () => {
    const outDir = path.join(await tmp(), 'grid');
    const { metadata: meta } = await segmentVideo(GRID, { outDir, durable: false });
    expect(meta.source).toMatchObject({ codec: 'mpeg1video', format: 'mpeg', width: 360, height: 288, fps: 25, has_audio: true });
    // shorter side 288 < 360: not upscaled, and above the 256 px minimum
    expect([meta.analysis_width, meta.analysis_height, meta.analysis_fps]).toEqual([360, 288, 12]);
    expect(meta.below_min_resolution).toBe(false);
    expect(meta.analysis_frame_count).toBe(36);
    expect(meta.frame_count).toBe(36);
    expect(meta.cheap_signals.cut_candidate_count).toBe(0);
    expect(meta.warnings).toEqual([]);
    const frames = await FrameManager.open(outDir);
    const batch = await frames.getBatch(frames.frameIndices('core_face_landmarks'));
    expect(batch.data.length).toBe(batch.indices.length * 360 * 288 * 3);
    await frames.close();
  });
});
