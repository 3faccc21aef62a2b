/** Building a ComponentOutcome for the common case of a component that called no model. */
import type { ManifestArtifact } from '../contracts/manifest.js';
import type { EmptyReason } from '../contracts/status.js';
import type { ComponentOutcome } from './component.js';

/** The outcome of a component that ran no model: no models_used, no signature, no device. */
export function outcomeWithoutModels(status: 'ok' | 'empty', emptyReason: EmptyReason | null, artifacts: ManifestArtifact[], notes: string[] = []): ComponentOutcome {
  return { status, empty_reason: status === 'empty' ? emptyReason : null, artifacts, models_used: [], model_signature: null, device_used: null, notes };
}
