// @ts-check
/**
 * core_face_landmarks on a talking-head clip (issue 5): milliseconds per primary frame for the whole two-stage
 * pipeline (frame reads, detector on the stage-1 subsample, FaceMesh near detections, the NPZ), and the share of
 * primary frames on which the mesh ran. Real models from ../shared/models (YuNet + MediaPipe FaceMesh 468), read
 * in place through symlinks in a temporary models dir; the clip is ../shared/media/grid_bbaf2n.mpg (3 s, 360x288).
 *
 *   node bench/faces.mjs [--reps N] [--no-write]   (npm run bench runs it after the ingest benchmark)
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, machineInfo, median, writeSection } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.join(root, '..', 'shared');
const dist = (/** @type {string} */ p) => import(path.join(root, 'dist', p));
const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, 'no-write': { type: 'boolean', default: false } } });
const reps = Number(values.reps);
const log = (/** @type {string} */ line) => console.error(`bench faces: ${line}`);

const { segmentVideo } = await dist('core/segmenter/index.js');
const { coreFaceLandmarksComponent } = await dist('core/providers/core_face_landmarks/index.js');
const { OnnxSessionRegistry } = await dist('core/runtime/onnx/sessions.js');
const { loadRegistry } = await dist('core/runtime/registry/index.js');
const { probeVideo } = await dist('core/video/probe.js');
const { readNpzFile } = await dist('core/npz/index.js');

const clip = path.join(shared, 'media', 'grid_bbaf2n.mpg');
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'trendflow-bench-faces-'));
try {
  const modelsDir = path.join(work, 'models');
  for (const id of ['yunet-2023mar', 'mediapipe-facemesh-468']) {
    await fs.mkdir(path.join(modelsDir, id), { recursive: true });
    for (const name of await fs.readdir(path.join(shared, 'models', id))) {
      if (!name.startsWith('.')) await fs.symlink(path.join(shared, 'models', id, name), path.join(modelsDir, id, name));
    }
  }
  const models = { registry: await loadRegistry({ modelsDir }), modelsDir, sessions: new OnnxSessionRegistry() };
  const framesDir = path.join(work, 'frames');
  await segmentVideo(clip, { outDir: framesDir, components: ['core_face_landmarks'] });
  const probe = await probeVideo(clip);
  const config = coreFaceLandmarksComponent.parseConfig(undefined);
  const identity = { platform_id: 'local', video_id: 'file-bench', run_id: 'bench', config_hash: '0'.repeat(64), sampling_policy_version: 'sampling_policy_v1', dataprocessor_version: '0' };
  const runOnce = async (/** @type {number} */ rep) => {
    const runDir = path.join(work, `run-${rep}`);
    const ctx = {
      identity, runDir, framesDir, videoPath: probe.path, probe, inputs: {}, models,
      audio: async () => null, batchSize: coreFaceLandmarksComponent.batching?.(config).fixed ?? null, metadataFile: null, snapshotsDir: null,
    };
    const t0 = performance.now();
    const outcome = await coreFaceLandmarksComponent.run(ctx, config);
    const seconds = (performance.now() - t0) / 1000;
    const npz = await readNpzFile(path.join(runDir, outcome.artifacts[0].path));
    const meta = /** @type {Record<string, any>} */ (npz.get('meta').data[0]);
    const primary = npz.get('frame_indices').data.length;
    return { seconds, primary, mesh: meta.mesh_frame_indices.length, detector: meta.detector_frame_indices.length, faces: Array.from(npz.get('has_any_face').data).filter(Boolean).length };
  };
  await runOnce(-1); // warm-up: session creation and first allocations
  const runs = [];
  for (let rep = 0; rep < reps; rep++) runs.push(await runOnce(rep));
  await models.sessions.releaseAll();
  const { primary, mesh, detector, faces } = runs[0];
  const msPerFrame = (median(runs.map((r) => r.seconds)) * 1000) / primary;
  log(`${primary} primary frames, ${fmt(msPerFrame, 1)} ms per primary frame, mesh on ${mesh} (${fmt((100 * mesh) / primary, 0)} %), detector on ${detector}`);
  const machine = machineInfo();
  const body = `## core_face_landmarks: ms per primary frame on a talking head

**${fmt(msPerFrame, 1)} ms per primary frame**; FaceMesh ran on **${mesh} of ${primary}** primary frames (${fmt((100 * mesh) / primary, 0)} %), the detector on ${detector} (stage-1 subsample plus re-detections); faces found on ${faces} frames.

| run | |
|---|---|
| date | ${new Date().toISOString()} |
| machine | ${machine.nproc} CPUs, ${machine.cpu_model}, ${machine.memory_gib} GiB RAM, ${machine.os}; load average ${fmt(os.loadavg()[0])} at the end |
| clip | ../shared/media/grid_bbaf2n.mpg (MPEG-1, 360x288, 3 s), segmented for core_face_landmarks only |
| models | yunet-2023mar (stage 1), mediapipe-facemesh-468 (stage 2), onnxruntime-node, CPU |
| repetitions | ${reps} after a warm-up; median run ${fmt(median(runs.map((r) => r.seconds)), 2)} s |

How: \`node bench/faces.mjs\` (run by \`npm run bench\`): the component's own \`run\` on a finished frames_dir, timed from
the first frame read to the validated artifact.`;
  if (!values['no-write']) await writeSection(path.join(root, 'docs', 'BENCHMARKS.md'), 'faces', body, '# Benchmarks');
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
