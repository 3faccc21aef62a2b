/**
 * The contract between the orchestrator and every pipeline component (DESIGN.md §7, §9; seed 002 §4).
 *
 * A component is a folder under core/providers, core/modules, core/audio, core/text or core/temporal that exports
 * one `ComponentDefinition`. The orchestrator resolves its config, plans its batch size, runs it with a
 * `ComponentRunContext`, and records its `ComponentOutcome` in the manifest. A component reads other components only
 * through their artifacts (`ctx.inputs`), frames only through the frames_dir, audio only through `ctx.audio`.
 */
import type { ComponentKind, ComponentName } from '../contracts/components.js';
import type { ManifestArtifact } from '../contracts/manifest.js';
import type { ModelUsed } from '../contracts/meta.js';
import type { EmptyReason } from '../contracts/status.js';
import type { OnnxSessionRegistry } from '../runtime/onnx/sessions.js';
import type { ModelRegistry } from '../runtime/registry/registry.js';
import type { AudioSamples } from '../video/audio.js';
import type { VideoProbe } from '../video/probe.js';
import type { ComponentContext } from './context.js';

/** What a component needs from another component's artifact. */
export interface ComponentDependency {
  component: ComponentName;
  /**
   * `required`: runs only when that component is ok or empty, and becomes empty with `dependency_missing` when
   * it is not there; `optional`: uses it when it is ok, fills the fields that need it with NaN + masks otherwise.
   */
  need: 'required' | 'optional';
}

/** An upstream artifact as the component sees it. */
export interface ComponentInput {
  component: ComponentName;
  status: 'ok' | 'empty';
  /** Absolute path of the artifact. */
  path: string;
  artifact: ManifestArtifact;
  /** What goes into the reader's `meta.dependencies`: `<component>: sha256:<artifact sha256>`. */
  signature: string;
}

/** Everything a component may use while it runs. */
export interface ComponentRunContext extends ComponentContext {
  /** The analysed file and its probe (for audio extraction and source facts). */
  videoPath: string;
  probe: VideoProbe;
  /** The artifacts of this component's dependencies that exist (ok or empty). */
  inputs: Partial<Record<ComponentName, ComponentInput>>;
  /**
   * The video's audio, mono float32 at `sampleRate`, extracted once per rate and shared by the audio components;
   * null when the file has no audio stream (→ status empty, `audio_missing_or_extract_failed`).
   */
  audio(sampleRate: number): Promise<AudioSamples | null>;
  models: { registry: ModelRegistry; modelsDir: string; sessions: OnnxSessionRegistry };
  /** The batch size the planner chose (components that run models); null for the others. */
  batchSize: number | null;
  /** The metadata JSON given with `--meta` and the snapshots folder given with `--snapshots`, when given. */
  metadataFile: string | null;
  snapshotsDir: string | null;
}

/** What a component that cannot run gets to write its empty artifact (`ComponentDefinition.writeEmpty`). */
export type EmptyContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'inputs' | 'signal'>;

/** What a finished component reports; an error is thrown as a TrendflowError instead. */
export interface ComponentOutcome {
  status: 'ok' | 'empty';
  empty_reason: EmptyReason | null;
  artifacts: ManifestArtifact[];
  models_used: ModelUsed[];
  model_signature: string | null;
  /** The device it computed on (`cpu`, `cuda:0`), null when it ran no model. */
  device_used: string | null;
  notes: string[];
}

/** How the orchestrator plans a model component's batch (core/runtime/planner). */
export interface BatchingSpec {
  device: 'cpu' | 'cuda';
  /** A batch size fixed by the config; null lets the planner choose from free memory and the checklist. */
  fixed: number | null;
}

export interface ComponentDefinition<Config = unknown> {
  name: ComponentName;
  kind: ComponentKind;
  producerVersion: string;
  schemaVersion: string;
  dependencies: readonly ComponentDependency[];
  /** Which run inputs it reads; decides what the orchestrator prepares and what enters the cache key. */
  uses: { frames: boolean; signals: boolean; audio: boolean; metadata: boolean; snapshots: boolean };
  defaults: Config;
  /** Checks a config (defaults merged in by the caller); unknown keys and bad values are `invalid_argument`. */
  parseConfig(value: unknown): Config;
  /** For components that run models; undefined for the others. */
  batching?(config: Config): BatchingSpec;
  run(ctx: ComponentRunContext, config: Config): Promise<ComponentOutcome>;
  /**
   * Optional: what decides the result besides the config, the registry's models and the run's inputs (e.g. the
   * model folders the prediction component loads): a JSON value of their digests that enters the cache key, so
   * retraining into the same folder is a new key. Must not throw for a missing or broken input (say so in the
   * value instead: the run reports the problem).
   */
  cacheInputs?(config: Config, env: { modelsDir: string }): Promise<unknown>;
  /**
   * Optional: which of the registry models its config names this config reads from the models dir (the model
   * pre-flight check, preflight.ts, looks only at those). Absent: all of them. Fewer when the models are served
   * elsewhere (Triton) or the configured engine runs none.
   */
  localModels?(config: Config, named: readonly string[]): string[];
  /**
   * Optional: writes the component's artifact with status empty and `reason` when it cannot run because a
   * required dependency is missing (not implemented, failed, or itself not run), so the run folder still holds
   * its artifact. Without it the orchestrator records the component empty with no artifact.
   */
  writeEmpty?(ctx: EmptyContext, config: Config, reason: EmptyReason): Promise<ComponentOutcome>;
}
