/**
 * The workstation settings applied to an analysis started from the UI (DESIGN.md §11): device, runtime, Triton URL
 * and batch sizes become a profile overlay — the params of each model component the run will compute — so the
 * orchestrator runs them through its ordinary options (component config → `batching()` → batch planner) and the
 * run request and `config_hash` record them like any profile param. `models_dir` is the API's models dir already.
 *
 * A setting that cannot apply is an error before any worker starts, never a silent CPU or in-process run:
 * device cuda without onnxruntime-node's CUDA provider, runtime triton without a URL, without the component's
 * Triton model mapping in the profile, or with a model component that has no Triton runtime.
 *
 * Used by `analysis.start` (to refuse early and list the components) and by the analysis worker (to run them),
 * so both resolve the same config.
 */
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import type { Profile, ProfileComponent } from '../pipeline/profile.js';
import { resolveRunConfig, type ComponentTable, type RunConfig } from '../pipeline/run-config.js';
import { cudaProviderInstalled, CUDA_INSTALL_COMMAND } from '../runtime/onnx/sessions.js';
import type { ModelRegistry } from '../runtime/registry/registry.js';
import type { WorkstationSettings } from './contract.js';

export interface SettingsRunConfig {
  /** The profile with the settings laid over its model components' params. */
  profile: Profile;
  config: RunConfig;
}

const has = (defaults: unknown, key: string): boolean => typeof defaults === 'object' && defaults !== null && key in defaults;

/**
 * The run config of `profile` (with `only`, as `trendflow analyze --components`) once `settings` are applied.
 * The component set is resolved first without them (settings change params, never which components run).
 */
export function applyWorkstationSettings(
  profile: Profile,
  settings: WorkstationSettings,
  options: { only: readonly ComponentName[] | undefined; components: ComponentTable; registry: ModelRegistry; cudaAvailable?: () => boolean },
): SettingsRunConfig {
  const { only, components, registry } = options;
  const plain = resolveRunConfig({ profile, only, components, registry });
  const models = (Object.keys(plain.components) as ComponentName[]).filter((name) => components.get(name)?.batching);

  if (settings.device === 'cuda' && models.length > 0 && !(options.cudaAvailable ?? cudaProviderInstalled)()) {
    throw new TrendflowError(
      'execution_provider_unavailable',
      `the workstation settings ask for device cuda (for ${models.join(', ')}), but onnxruntime-node's CUDA provider is not installed: run \`${CUDA_INSTALL_COMMAND}\` on a machine with CUDA 12, or set device cpu`,
    );
  }
  if (settings.runtime === 'triton') {
    if (settings.triton_url === null) throw new TrendflowError('invalid_argument', 'the workstation settings ask for runtime triton without a triton_url');
    const inprocessOnly = models.filter((name) => !has(components.get(name)!.defaults, 'runtime'));
    if (inprocessOnly.length > 0) {
      throw new TrendflowError(
        'invalid_argument',
        `the workstation settings ask for runtime triton, but ${inprocessOnly.join(', ')} ${inprocessOnly.length === 1 ? 'has' : 'have'} no Triton runtime in this build: leave ${inprocessOnly.length === 1 ? 'it' : 'them'} out (components) or set runtime inprocess`,
      );
    }
  }

  const overlaid = new Map<ComponentName, ProfileComponent>(profile.components);
  for (const name of models) {
    const defaults = components.get(name)!.defaults;
    const entry = profile.components.get(name);
    const params: Record<string, unknown> = { ...(entry?.params ?? {}) };
    const batchSize = settings.batch_sizes[name];
    if (has(defaults, 'device')) params.device = settings.device;
    if (has(defaults, 'runtime')) params.runtime = settings.runtime;
    if (settings.runtime === 'triton') {
      // the Triton mapping (served model names, tensors, datatypes) comes from the profile; the settings give the server
      const mapping = params.triton;
      if (typeof mapping !== 'object' || mapping === null) {
        throw new TrendflowError('invalid_argument', `the workstation settings ask for runtime triton, but the profile gives ${name} no Triton model mapping (params.triton: see core/runtime/triton/README.md)`);
      }
      params.triton = { ...mapping, triton_http_url: settings.triton_url, ...(batchSize !== undefined ? { batch_size: batchSize } : {}) };
    } else if (batchSize !== undefined) {
      if (!has(defaults, 'batch_size')) throw new TrendflowError('invalid_argument', `the workstation settings give ${name} a batch size, which it does not take`);
      params.batch_size = batchSize;
    }
    // a component pulled in only as a dependency keeps the requiredness the plain config gave it
    overlaid.set(name, { required: entry?.required ?? plain.components[name]!.required, params });
  }
  const applied: Profile = { ...profile, components: overlaid };
  return { profile: applied, config: resolveRunConfig({ profile: applied, only, components, registry }) };
}
