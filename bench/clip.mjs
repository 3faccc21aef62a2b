// @ts-check
/**
 * core_clip throughput ÷ raw onnxruntime `session.run` throughput on the same pre-made batches (DESIGN.md §12):
 * how much frame reading, CLIP preprocessing, normalization, the prompt embeddings and the NPZ write cost on top of
 * inference. The real CLIP ViT-B/32 is not kept on development machines, so the image tower is a generated model
 * with its contract and about its compute (12 residual MLP blocks of 768→3072 over the 7×7 patch tokens, ≈ 5 GFLOP
 * per image; test/helpers/onnx-models.ts); run with `--image-model ID --text-model ID --models-dir DIR` to measure
 * installed models instead.
 *
 *   node bench/clip.mjs [--reps N] [--batch N] [--no-write]   (npm run bench runs it after the ingest benchmark)
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { fmt, machineInfo, median, writeSection } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (/** @type {string} */ p) => import(path.join(root, 'dist', p));
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    batch: { type: 'string', default: '16' },
    'image-model': { type: 'string' },
    'text-model': { type: 'string' },
    'models-dir': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const reps = Number(values.reps);
const batchSize = Number(values.batch);
const log = (/** @type {string} */ line) => console.error(`bench clip: ${line}`);

const { segmentVideo } = await dist('core/segmenter/index.js');
const { FrameManager } = await dist('core/segmenter/frame-manager.js');
const { runCoreClip, setupCoreClip, DEFAULT_CORE_CLIP_CONFIG } = await dist('core/providers/core_clip/index.js');
const { preprocessClipBatch } = await dist('core/runtime/clip/preprocess.js');
const { OnnxSessionRegistry } = await dist('core/runtime/onnx/sessions.js');
const { addModel, loadRegistry, locateModelFile } = await dist('core/runtime/registry/index.js');
const { locateFfmpeg } = await dist('core/video/tools.js');
const { makeClipImageModel, makeClipTextModel } = await dist('bench/test/helpers/onnx-models.js');

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'trendflow-bench-clip-'));
try {
  // ---- models: installed ones, or the compute-matched contract models
  let modelsDir = values['models-dir'] ?? path.join(work, 'models');
  let imageId = values['image-model'];
  let textId = values['text-model'];
  let modelNote;
  if (!imageId || !textId) {
    const imageFile = path.join(work, 'clip_image.onnx');
    const textFile = path.join(work, 'clip_text.onnx');
    await fs.writeFile(imageFile, makeClipImageModel({ dim: 768, blocks: 12, hidden: 3072 }));
    await fs.writeFile(textFile, makeClipTextModel({ dim: 768 }));
    const builtin = await loadRegistry({ modelsDir });
    imageId = 'bench-clip-image';
    textId = 'bench-clip-text';
    await addModel(builtin, modelsDir, imageFile, { id: imageId, license: 'MIT' });
    await addModel(builtin, modelsDir, textFile, { id: textId, license: 'MIT' });
    const vocab = path.join(modelsDir, 'clip-bpe-vocab', 'bpe_simple_vocab_16e6.txt.gz');
    await fs.mkdir(path.dirname(vocab), { recursive: true });
    // the real BPE vocabulary from ../shared/models (SOURCES.md), as the tests use it
    await fs.copyFile(path.join(root, '..', 'shared', 'models', 'clip-bpe-vocab', 'bpe_simple_vocab_16e6.txt.gz'), vocab);
    modelNote = 'generated ViT-B/32-compute contract model (768-wide, 12 residual MLP blocks over 49 patch tokens, ≈ 5 GFLOP/image)';
  } else modelNote = `${imageId} / ${textId} from ${modelsDir}`;
  const registry = await loadRegistry({ modelsDir });

  // ---- a frames_dir: 640x360 testsrc2 with moving content, 12 s → core_clip samples every analysis frame it gets
  const ffmpeg = await locateFfmpeg();
  const video = path.join(work, 'clip.mp4');
  const { execFileSync } = await import('node:child_process');
  execFileSync(ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=25:d=12', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video]);
  const framesDir = path.join(work, 'frames');
  await segmentVideo(video, { outDir: framesDir, components: ['core_clip'] });
  const frames = await FrameManager.open(framesDir);
  const indices = frames.frameIndices('core_clip');
  log(`${indices.length} frames, batch ${batchSize}, ${modelNote}`);

  // ---- the same pre-made batches for the raw baseline (made once, not timed)
  const sessions = new OnnxSessionRegistry();
  const imageFile = await locateModelFile(registry, modelsDir, imageId);
  const model = await sessions.get(imageFile.path);
  const batches = [];
  for (let start = 0; start < indices.length; start += batchSize) {
    const batch = await frames.getBatch(indices.slice(start, start + batchSize));
    batches.push({ pixels: await preprocessClipBatch(batch.frames, 'openai_clip_224'), count: batch.frames.length });
  }
  await frames.close();
  const input = model.inputs[0].name;
  const rawOnce = async () => {
    const t0 = performance.now();
    for (const b of batches) await model.run({ [input]: new ort.Tensor('float32', b.pixels, [b.count, 3, 224, 224]) });
    return (performance.now() - t0) / 1000;
  };
  const setup = await setupCoreClip({ ...DEFAULT_CORE_CLIP_CONFIG, image_model: imageId, text_model: textId }, { registry, modelsDir, sessions });
  const identity = { platform_id: 'local', video_id: 'file-bench', run_id: 'bench', config_hash: '0'.repeat(64), sampling_policy_version: 'sampling_policy_v1', dataprocessor_version: '0' };
  const clipOnce = async (/** @type {number} */ rep) => {
    const runDir = path.join(work, `run-${rep}`);
    const t0 = performance.now();
    await runCoreClip({ identity, runDir, framesDir }, { preset: 'openai_clip_224', batchSize, encoders: setup.encoders, tokenizer: setup.tokenizer });
    return (performance.now() - t0) / 1000;
  };
  await rawOnce(); // warm-up: kernel selection and first allocations
  await clipOnce(-1);
  const raw = [];
  const clip = [];
  for (let rep = 0; rep < reps; rep++) {
    // interleaved, order alternating, so drifting load hits both
    if (rep % 2 === 0) {
      raw.push(await rawOnce());
      clip.push(await clipOnce(rep));
    } else {
      clip.push(await clipOnce(rep));
      raw.push(await rawOnce());
    }
  }
  await setup.close();
  await sessions.releaseAll();
  const rawFps = indices.length / median(raw);
  const clipFps = indices.length / median(clip);
  const ratio = clipFps / rawFps;
  log(`raw session.run ${fmt(rawFps, 1)} frames/s, core_clip ${fmt(clipFps, 1)} frames/s, ratio ${fmt(ratio)}`);

  const machine = machineInfo();
  const body = `## core_clip: throughput vs. raw session.run

**core_clip ÷ raw session.run = ${fmt(ratio)}** (median throughputs). Target ≥ 0.85: **${ratio >= 0.85 ? 'met' : 'not met'}**.

| run | |
|---|---|
| date | ${new Date().toISOString()} |
| machine | ${machine.nproc} CPUs, ${machine.cpu_model}, ${machine.memory_gib} GiB RAM, ${machine.os}; load average ${fmt(os.loadavg()[0])} at the end |
| model | ${modelNote}, onnxruntime-node ${ort.env.versions.common}, CPU |
| frames | ${indices.length} core_clip frames of a 640x360 12 s clip, preset openai_clip_224, batch ${batchSize}; ${reps} interleaved repetitions after a warm-up |

| measurement | median s | frames/s |
|---|---:|---:|
| raw: \`session.run\` over the same pre-made (B,3,224,224) batches | ${fmt(median(raw))} | ${fmt(rawFps, 1)} |
| core_clip: read frames + preprocess + image and text inference + normalize + write and validate the NPZ | ${fmt(median(clip))} | ${fmt(clipFps, 1)} |

How: \`node bench/clip.mjs\` (run by \`npm run bench\`). core_clip prepares batch k+1 (frame reads and sharp resizes
on libuv's threads) while batch k is in inference, so its overhead over raw inference is mostly the 19 prompt
embeddings, the normalization and the artifact write.`;
  if (!values['no-write']) await writeSection(path.join(root, 'docs', 'BENCHMARKS.md'), 'clip', body, '# Benchmarks');
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
