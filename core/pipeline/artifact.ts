/**
 * Writing a component's NPZ artifact: the canonical meta (DESIGN.md §5), an atomic write into
 * `<runDir>/<component>/<file>`, and validation against the component's schema right after the write, so that no
 * artifact that breaks its contract is ever left looking valid.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import type { ArtifactMeta, RunIdentity } from '../contracts/meta.js';
import type { EmptyReason, Status } from '../contracts/status.js';
import { ndarray, writeNpzFile, type AnyNdArray, type PyValue } from '../npz/index.js';
import { formatProblem, validateNpzFile } from '../schema/index.js';
import { describeArtifact } from '../store/manifest.js';
import type { ManifestArtifact } from '../contracts/manifest.js';

export interface MetaInput {
  identity: RunIdentity;
  producer: ComponentName;
  producerVersion: string;
  schemaVersion: string;
  status: Exclude<Status, 'error'>;
  emptyReason?: EmptyReason | null;
  /** Component-specific keys (models_used, model_signature, batch_size, dependencies, parameters…). */
  extra?: Record<string, PyValue>;
}

/** The meta dict: identity, producer fields, status and the component's own keys. */
export function artifactMeta(input: MetaInput): ArtifactMeta & Record<string, PyValue> {
  return {
    producer: input.producer,
    producer_version: input.producerVersion,
    schema_version: input.schemaVersion,
    created_at: new Date().toISOString(),
    ...input.identity,
    status: input.status,
    empty_reason: input.emptyReason ?? null,
    ...input.extra,
  };
}

/**
 * Writes `<runDir>/<component>/<fileName>` atomically and validates it against the component's schema; an
 * artifact that fails is removed and reported as `artifact_invalid` with every problem. Returns the manifest entry
 * (path relative to the run, bytes, sha256).
 */
export async function writeArtifact(
  runDir: string,
  component: ComponentName,
  fileName: string,
  arrays: Record<string, AnyNdArray>,
  meta: Record<string, PyValue>,
): Promise<ManifestArtifact> {
  const file = path.join(runDir, component, fileName);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeNpzFile(file, { ...arrays, meta: ndarray.objectScalar(meta) }, { compress: true });
  const validation = await validateNpzFile(file, { schema: component });
  if (!validation.ok) {
    await fs.rm(file, { force: true });
    throw new TrendflowError('artifact_invalid', `the ${component} artifact breaks its schema:\n${validation.problems.map(formatProblem).join('\n')}`, { path: file });
  }
  return describeArtifact(runDir, file);
}
