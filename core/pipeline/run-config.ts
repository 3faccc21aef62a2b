/**
 * The resolved run config (DESIGN.md §4, §9): which components run, required or optional, their params with
 * defaults merged and checked, the models each one names (resolved from the registry to pinned versions and
 * digests: the model mapping of seed 003 Q4) and the segmenter settings. `config_hash` is the sha256 of its
 * canonical JSON, so a changed param, model or selection is a new config. The components are ordered so that
 * every component comes after the ones it depends on.
 */
import { COMPONENT_NAMES, type ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import type { ModelRegistry } from '../runtime/registry/registry.js';
import { configHash } from '../store/identity.js';
import type { ComponentDefinition } from './component.js';
import type { Profile, SegmenterSettings } from './profile.js';

export const RUN_CONFIG_FORMAT = 'trendflow_run_config_v1';

/** A model a component's config names, as the registry pins it. */
export interface ResolvedModel {
  model_name: string;
  model_version: string;
  /** sha256 of each file as the registry (or the lock file) pins it; null for an unpinned file. */
  files: Record<string, string | null>;
}

export interface ResolvedComponent {
  required: boolean;
  /** The parsed config (defaults merged, validated by the component's parseConfig). */
  params: unknown;
  /** Registry ids named anywhere in `params`, resolved. */
  models: Record<string, ResolvedModel>;
}

export interface RunConfig {
  format: typeof RUN_CONFIG_FORMAT;
  segmenter: SegmenterSettings;
  /** In dependency order. */
  components: Partial<Record<ComponentName, ResolvedComponent>>;
  /** Components the profile (or a dependency) names that are not implemented yet: they do not run. */
  not_implemented: ComponentName[];
}

export type ComponentTable = ReadonlyMap<ComponentName, ComponentDefinition<unknown>>;

export interface ResolveOptions {
  profile: Profile;
  /** `--components`: run just these (plus what they require), with the profile's params. */
  only?: readonly ComponentName[] | undefined;
  components: ComponentTable;
  registry: ModelRegistry;
}

/**
 * Resolves the run config. Requiredness comes from the profile; a component pulled in only as a required
 * dependency is required when a required component needs it; one named by `--components` but absent from the
 * profile is required (the user asked for it). Unknown params and bad values are `invalid_argument`.
 */
export function resolveRunConfig(options: ResolveOptions): RunConfig {
  const { profile, components } = options;
  const notImplemented = new Set<ComponentName>();
  const required = new Map<ComponentName, boolean>();

  let roots: ComponentName[];
  if (options.only) {
    const missing = options.only.filter((name) => !components.has(name));
    if (missing.length > 0) {
      throw new TrendflowError('invalid_argument', `not implemented yet: ${missing.join(', ')} (available: ${[...components.keys()].join(', ')})`);
    }
    roots = [...new Set(options.only)];
    for (const name of roots) required.set(name, profile.components.get(name)?.required ?? true);
  } else {
    roots = [];
    for (const [name, entry] of profile.components) {
      if (components.has(name)) {
        roots.push(name);
        required.set(name, entry.required);
      } else {
        notImplemented.add(name);
      }
    }
  }

  // closure over required dependencies, depth first. A dependency the profile lists keeps its flag; one pulled
  // in only as a dependency is required when a required component needs it
  const visit = (name: ComponentName, trail: ComponentName[]): void => {
    if (trail.includes(name)) throw new TrendflowError('internal_error', `components depend on each other in a cycle: ${[...trail, name].join(' → ')}`);
    const definition = components.get(name)!;
    for (const dependency of definition.dependencies) {
      if (dependency.need !== 'required') continue;
      if (!components.has(dependency.component)) {
        notImplemented.add(dependency.component);
        continue;
      }
      const before = required.get(dependency.component);
      const now = profile.components.get(dependency.component)?.required ?? ((before ?? false) || required.get(name)!);
      if (before === undefined || now !== before) {
        required.set(dependency.component, now);
        visit(dependency.component, [...trail, name]);
      }
    }
  };
  for (const name of roots) visit(name, []);

  const resolved: Partial<Record<ComponentName, ResolvedComponent>> = {};
  for (const name of dependencyOrder([...required.keys()], components)) {
    const definition = components.get(name)!;
    const params = definition.parseConfig(profile.components.get(name)?.params ?? {});
    resolved[name] = { required: required.get(name)!, params, models: resolveModels(params, options.registry) };
  }
  return { format: RUN_CONFIG_FORMAT, segmenter: { ...profile.segmenter }, components: resolved, not_implemented: [...notImplemented].sort() };
}

/**
 * Every string in a config that is a registry model id, resolved. Components name their models by registry id
 * (DESIGN.md §8), so this finds them without each component declaring its models a second time.
 */
function resolveModels(params: unknown, registry: ModelRegistry): Record<string, ResolvedModel> {
  const ids = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      if (registry.has(value)) ids.add(value);
    } else if (Array.isArray(value)) {
      value.forEach(walk);
    } else if (value !== null && typeof value === 'object') {
      Object.values(value).forEach(walk);
    }
  };
  walk(params);
  const models: Record<string, ResolvedModel> = {};
  for (const id of [...ids].sort()) {
    const entry = registry.get(id);
    models[id] = {
      model_name: entry.model_name,
      model_version: entry.model_version,
      files: Object.fromEntries(entry.files.map((file) => [file.name, file.sha256])),
    };
  }
  return models;
}

/** Topological order (dependencies first, ties in canonical-name order) of `names` over their dependencies. */
export function dependencyOrder(names: readonly ComponentName[], components: ComponentTable): ComponentName[] {
  const selected = new Set(names);
  const order: ComponentName[] = [];
  const state = new Map<ComponentName, 'visiting' | 'done'>();
  const visit = (name: ComponentName, trail: ComponentName[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new TrendflowError('internal_error', `components depend on each other in a cycle: ${[...trail, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const dependency of components.get(name)?.dependencies ?? []) {
      if (selected.has(dependency.component)) visit(dependency.component, [...trail, name]);
    }
    state.set(name, 'done');
    order.push(name);
  };
  const canonical = (a: ComponentName, b: ComponentName): number => COMPONENT_NAMES.indexOf(a) - COMPONENT_NAMES.indexOf(b);
  for (const name of [...selected].sort(canonical)) visit(name, []);
  return order;
}

/** The part of the run config that belongs to one component (params and models): the component config hash. */
export function componentConfigHash(component: ResolvedComponent): string {
  return configHash({ params: component.params, models: component.models });
}
