/**
 * Types of the model registry (DESIGN.md §8): what `models/registry.json`, the models dir's
 * `local-registry.json` and `models.lock.json` hold, and what the registry API hands out.
 */

/** How a model's files are used: an ONNX graph run by an inference runtime, or data read by code (a vocabulary). */
export type ModelEngine = 'onnx' | 'vocab';

/** One input or output of an ONNX graph. */
export interface TensorSpec {
  name: string;
  /** Element type as onnxruntime names it: float32, float16, int64, int32, uint8, bool, … */
  dtype: string;
  /** Dimensions: a number for a fixed size, a name (`batch`, `height`, …) for a symbolic one. */
  shape: (number | string)[];
  /** Memory layout of an image tensor, where it matters: NCHW or NHWC. */
  layout?: string;
  description?: string;
}

/** How inputs are prepared: a named preset that code implements, plus its parameters (for people and checks). */
export interface Preprocessing {
  preset: string;
  params: Record<string, unknown>;
}

/** One file of a model as the registry describes it. */
export interface ModelFileSpec {
  /** File name inside `<modelsDir>/<model_id>/`: no folders. */
  name: string;
  /** Where `models fetch` downloads it, pinned to a commit; null for a model added locally with `models add`. */
  url: string | null;
  /** Lower-case hex sha256 of the file; null when not known in advance (unpinned). */
  sha256: string | null;
  /** Size in bytes; null when not known in advance. */
  bytes: number | null;
  /** Where the digest comes from (a file hashed here, an upstream LFS pointer…), for people. */
  digest_source?: string;
  /** Inputs of this file when they differ from the model's (one model, two graph variants). */
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
}

/** A registry entry as written in registry.json / local-registry.json (the id is the key). */
export interface ModelSpec {
  /** Canonical upstream name: a Hugging Face repo id, a GitHub owner/repo, or a local alias (seed 003 Q1). */
  model_name: string;
  /** Pinned revision: a commit sha, a tag, or (for `models add`) a digest-derived version. Never "latest". */
  model_version: string;
  /** SPDX identifier (or a short licence name); details in models/MODEL_LICENSES.md. */
  license: string;
  /** What it does: face_detection, image_embedding, tokenizer_vocab, … */
  task: string;
  engine: ModelEngine;
  description?: string;
  /** Upstream page. */
  homepage?: string;
  /** The first file is the model's main file (the one `locateModelFile` returns when no file is named). */
  files: ModelFileSpec[];
  /** The graph's inputs and outputs (ONNX models; empty for vocabularies). */
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  preprocessing: Preprocessing | null;
  /** Other registry ids that must be used together with this one (CLIP towers and their vocabulary). */
  companions?: string[];
}

/** The registry file format (models/registry.json and `<modelsDir>/local-registry.json`). */
export interface RegistryFile {
  registry_version: 1;
  $comment?: string;
  models: Record<string, ModelSpec>;
}

/** Where a file's expected digest comes from once the registry is loaded. */
export type DigestPin = 'registry' | 'lock' | null;

export interface ModelFile extends ModelFileSpec {
  /** `registry`: sha256 given by the registry; `lock`: recorded by an `--allow-unpinned` fetch; null: unpinned. */
  pinned_by: DigestPin;
}

/** A loaded registry entry. */
export interface ModelEntry extends Omit<ModelSpec, 'files' | 'companions'> {
  id: string;
  /** `builtin`: models/registry.json; `local`: added with `models add` (the models dir's local-registry.json). */
  source: 'builtin' | 'local';
  files: ModelFile[];
  companions: string[];
}

/** One file recorded by a fetch of an unpinned file (`<modelsDir>/models.lock.json`). */
export interface LockRecord {
  model_version: string;
  url: string | null;
  sha256: string;
  bytes: number;
  recorded_at: string;
}

export interface LockFile {
  lock_version: 1;
  $comment?: string;
  models: Record<string, Record<string, LockRecord>>;
}

/** A model file found in the models dir and checked against its digest. */
export interface LocatedModelFile {
  path: string;
  sha256: string;
  bytes: number;
}
