/** Building a ComponentOutcome for the two common cases: a component that called no model, and an ok one that did. */
import type { ManifestArtifact } from '../contracts/manifest.js';
import type { ModelUsed } from '../contracts/meta.js';
import type { EmptyReason } from '../contracts/status.js';
import type { ComponentOutcome } from './component.js';

/** The outcome of a component that ran no model: no models_used, no signature, no device. */
export function outcomeWithoutModels(status: 'ok' | 'empty', emptyReason: EmptyReason | null, artifacts: ManifestArtifact[], notes: string[] = []): ComponentOutcome {
  return { status, empty_reason: status === 'empty' ? emptyReason : null, artifacts, models_used: [], model_signature: null, device_used: null, notes };
}

/** The outcome of an ok component that called models: what it ran, their signature and the device it ran on. */
export function okOutcomeWithModels(
  artifact: ManifestArtifact,
  models: { models_used: ModelUsed[]; model_signature: string | null; device_used: string | null },
  notes: string[] = [],
): ComponentOutcome {
  return { status: 'ok', empty_reason: null, artifacts: [artifact], ...models, notes };
}
