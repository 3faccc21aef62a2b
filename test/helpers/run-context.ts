/**
 * A `ComponentRunContext` for running an audio, text or temporal component on its own, outside the orchestrator
 * (tests, benchmarks, one-off runs): the video is probed once and `audio(rate)` extracts mono audio once per
 * rate, null when the file has no audio stream — the contract `ctx.audio` has in a pipeline run.
 */
import type { RunIdentity } from '../../core/contracts/meta.js';
import type { ComponentInput, ComponentRunContext } from '../../core/pipeline/component.js';
import type { ComponentName } from '../../core/contracts/components.js';
import { OnnxSessionRegistry } from '../../core/runtime/onnx/sessions.js';
import { loadRegistry, type ModelRegistry } from '../../core/runtime/registry/index.js';
import { extractAudio, type AudioSamples } from '../../core/video/audio.js';
import { probeVideo } from '../../core/video/probe.js';

export interface StandaloneContextOptions {
  videoPath: string;
  identity: RunIdentity;
  runDir: string;
  /** Defaults: the built-in registry with an empty models dir beside the run folder, a fresh session registry. */
  models?: { registry: ModelRegistry; modelsDir: string; sessions: OnnxSessionRegistry };
  batchSize?: number | null;
  metadataFile?: string | null;
  snapshotsDir?: string | null;
  inputs?: Partial<Record<ComponentName, ComponentInput>>;
  signal?: AbortSignal;
}

export async function standaloneRunContext(options: StandaloneContextOptions): Promise<ComponentRunContext> {
  const probe = await probeVideo(options.videoPath);
  const extracted = new Map<number, Promise<AudioSamples>>();
  const audio = (sampleRate: number): Promise<AudioSamples | null> => {
    if (!probe.has_audio) return Promise.resolve(null);
    let samples = extracted.get(sampleRate);
    if (!samples) {
      samples = extractAudio(probe.path, { sampleRate, probe, ...(options.signal ? { signal: options.signal } : {}) });
      extracted.set(sampleRate, samples);
    }
    return samples;
  };
  const modelsDir = `${options.runDir}.models`;
  return {
    identity: options.identity,
    runDir: options.runDir,
    framesDir: '',
    videoPath: probe.path,
    probe,
    inputs: options.inputs ?? {},
    audio,
    models: options.models ?? { registry: await loadRegistry({ modelsDir }), modelsDir, sessions: new OnnxSessionRegistry() },
    batchSize: options.batchSize ?? null,
    metadataFile: options.metadataFile ?? null,
    snapshotsDir: options.snapshotsDir ?? null,
    ...(options.signal ? { signal: options.signal } : {}),
  };
}
