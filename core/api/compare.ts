/** Two runs side by side (DESIGN.md §11): identity and config, per-component status, timings and models, feature deltas. */
import type { ComponentName } from '../contracts/components.js';
import type { ManifestComponent } from '../contracts/manifest.js';
import type { RunCatalog, OpenRun } from './catalog.js';
import type { ComponentSide, RunComparison } from './contract.js';
import { featureTables } from './views.js';

const IDENTITY_FIELDS = ['platform_id', 'video_id', 'source_sha256', 'config_hash', 'sampling_policy_version', 'dataprocessor_version', 'status'] as const;

function side(component: ManifestComponent | undefined): ComponentSide | null {
  if (!component) return null;
  return {
    status: component.status,
    empty_reason: component.empty_reason,
    error: component.error ? { code: component.error.error_code, message: component.error.message } : null,
    duration_ms: component.duration_ms,
    device_used: component.device_used,
    producer_version: component.producer_version,
    schema_version: component.schema_version,
    model_signature: component.model_signature,
    models: component.models_used,
    cache_hit: component.cache_hit,
  };
}

/** A float32 feature as JSON: NaN (missing) becomes null. */
function value(values: Float32Array | undefined, index: number | undefined): number | null {
  if (!values || index === undefined || index < 0) return null;
  const v = values[index]!;
  return Number.isNaN(v) ? null : v;
}

export async function compareRuns(catalog: RunCatalog, a: OpenRun, b: OpenRun): Promise<RunComparison> {
  const identity = IDENTITY_FIELDS.map((field) => {
    const x = (a.manifest.run[field] as string | undefined) ?? null;
    const y = (b.manifest.run[field] as string | undefined) ?? null;
    return { field, a: x, b: y, same: x === y };
  });

  const names: ComponentName[] = [];
  for (const c of [...a.manifest.components, ...b.manifest.components]) if (!names.includes(c.name)) names.push(c.name);
  const components = names.map((name) => {
    const ca = a.manifest.components.find((c) => c.name === name);
    const cb = b.manifest.components.find((c) => c.name === name);
    return {
      name,
      kind: (ca ?? cb)!.kind,
      a: side(ca),
      b: side(cb),
      // null where there is nothing to compare: a side is missing, or neither side called a model
      same_models: ca && cb && (ca.model_signature !== null || cb.model_signature !== null) ? ca.model_signature === cb.model_signature : null,
    };
  });

  const [tablesA, tablesB] = await Promise.all([featureTables(a), featureTables(b)]);
  const features: RunComparison['features'] = [];
  const tableNames: ComponentName[] = [];
  for (const t of [...tablesA, ...tablesB]) if (!tableNames.includes(t.component)) tableNames.push(t.component);
  for (const component of tableNames) {
    const ta = tablesA.find((t) => t.component === component);
    const tb = tablesB.find((t) => t.component === component);
    const featureNames = [...(ta?.names ?? [])];
    for (const name of tb?.names ?? []) if (!featureNames.includes(name)) featureNames.push(name);
    for (const name of featureNames) {
      const x = value(ta?.values, ta?.names.indexOf(name));
      const y = value(tb?.values, tb?.names.indexOf(name));
      features.push({ component, name, a: x, b: y, delta: x !== null && y !== null ? y - x : null });
    }
  }

  return { a: catalog.summary(a.ref, a.manifest), b: catalog.summary(b.ref, b.manifest), identity, components, features };
}
