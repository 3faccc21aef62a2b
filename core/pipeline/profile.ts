/**
 * Profiles (DESIGN.md §9, seed 002 §4 and §9): a named set of components, each required (fail-fast) or optional
 * (best-effort), with per-component params and the segmenter settings. They are JSON files the user can copy and
 * edit: the built-in ones live in `profiles/` (tier0, full, quick); `--profile` takes a built-in name or a path.
 * A profile may `extends` another (a name or a path relative to it) and override or remove (`null`) components.
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { COMPONENT_NAMES, type ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { DEFAULT_POLICY_PARAMS, PARAM_LIMITS } from '../segmenter/policy.js';

export const PROFILE_FORMAT = 'trendflow_profile_v1';
export const DEFAULT_PROFILE = 'tier0';

export interface SegmenterSettings {
  analysis_fps: number;
  analysis_short_side: number;
}

export interface ProfileComponent {
  required: boolean;
  /** The component's params as written (defaults are merged in when the run config is resolved). */
  params: Record<string, unknown>;
}

export interface Profile {
  name: string;
  description: string;
  /** The file it was read from (the most derived one when it extends others). */
  file: string;
  segmenter: SegmenterSettings;
  components: Map<ComponentName, ProfileComponent>;
}

/** A profile file as written. */
interface ProfileFile {
  format: typeof PROFILE_FORMAT;
  name: string;
  description: string;
  extends?: string;
  segmenter?: Partial<SegmenterSettings>;
  components: Record<string, { required?: boolean; params?: Record<string, unknown> } | null>;
}

const PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'name', 'description', 'components'],
  properties: {
    $comment: { type: 'string' },
    format: { const: PROFILE_FORMAT },
    name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    description: { type: 'string' },
    extends: { type: 'string', minLength: 1 },
    segmenter: {
      type: 'object',
      additionalProperties: false,
      properties: {
        analysis_fps: { type: 'number', minimum: PARAM_LIMITS.analysis_fps.min, maximum: PARAM_LIMITS.analysis_fps.max },
        analysis_short_side: { type: 'integer', minimum: PARAM_LIMITS.analysis_short_side.min, maximum: PARAM_LIMITS.analysis_short_side.max },
      },
    },
    components: {
      type: 'object',
      propertyNames: { enum: [...COMPONENT_NAMES] },
      additionalProperties: {
        anyOf: [
          { type: 'null' },
          {
            type: 'object',
            additionalProperties: false,
            properties: { required: { type: 'boolean' }, params: { type: 'object' } },
          },
        ],
      },
    },
  },
} as const;

const validateProfileFile = new Ajv({ allErrors: true, strict: true }).compile(PROFILE_SCHEMA);

let builtinDir: string | undefined;

/** The package's `profiles/` folder, found from the sources (core/pipeline) and from dist/core/pipeline. */
export function builtinProfilesDir(): string {
  if (builtinDir) return builtinDir;
  for (const up of ['../../', '../../../']) {
    const root = fileURLToPath(new URL(up, import.meta.url));
    try {
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: string };
      const dir = path.join(root, 'profiles');
      if (pkg.name === 'trendflow-workstation' && existsSync(dir)) return (builtinDir = dir);
    } catch {
      // no package.json at this depth; try the next
    }
  }
  throw new TrendflowError('internal_error', 'the profiles/ folder of trendflow-workstation was not found');
}

/** Names of the built-in profiles (`profiles/*.json`). */
export async function builtinProfileNames(): Promise<string[]> {
  const names = await fs.readdir(builtinProfilesDir());
  return names.filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length)).sort();
}

/** A `--profile` value is a path when it looks like one (a separator or `.json`), else a built-in name. */
function profileFile(reference: string, relativeTo: string | null): string {
  if (reference.includes('/') || reference.includes('\\') || reference.endsWith('.json')) {
    return path.resolve(relativeTo ?? process.cwd(), reference);
  }
  return path.join(builtinProfilesDir(), `${reference}.json`);
}

async function readProfileFile(file: string, reference: string): Promise<ProfileFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const known = await builtinProfileNames().catch(() => []);
      throw new TrendflowError('invalid_argument', `no profile ${JSON.stringify(reference)} (built-in profiles: ${known.join(', ')}; or give a path to a profile JSON file)`, { path: file });
    }
    throw new TrendflowError('file_read_failed', `cannot read the profile: ${(error as Error).message}`, { path: file, cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('invalid_argument', `the profile is not valid JSON: ${(error as Error).message}`, { path: file, cause: error });
  }
  if (!validateProfileFile(value)) {
    const why = (validateProfileFile.errors ?? [])
      .map((e) => (e.keyword === 'additionalProperties' ? `${e.instancePath || '/'} has unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}` : `${e.instancePath || '/'} ${e.message}`))
      .join('; ');
    throw new TrendflowError('invalid_argument', `the profile does not match ${PROFILE_FORMAT}: ${why}`, { path: file });
  }
  return value as ProfileFile;
}

/**
 * Loads a profile by built-in name or path, following `extends` (cycles refused). A derived profile's component
 * entry replaces `required` when it gives one and merges its `params` over the inherited ones (top-level keys);
 * `null` removes an inherited component. A component new to the chain must say whether it is required.
 */
export async function loadProfile(reference: string = DEFAULT_PROFILE): Promise<Profile> {
  return loadChain(reference, null, []);
}

async function loadChain(reference: string, relativeTo: string | null, seen: string[]): Promise<Profile> {
  const file = profileFile(reference, relativeTo);
  if (seen.includes(file)) throw new TrendflowError('invalid_argument', `profiles extend each other in a cycle: ${[...seen, file].join(' → ')}`, { path: file });
  const raw = await readProfileFile(file, reference);
  const base: Profile = raw.extends
    ? await loadChain(raw.extends, path.dirname(file), [...seen, file])
    : { name: raw.name, description: raw.description, file, segmenter: { ...DEFAULT_SEGMENTER }, components: new Map() };
  const components = new Map(base.components);
  for (const [name, entry] of Object.entries(raw.components) as [ComponentName, ProfileFile['components'][string]][]) {
    if (entry === null) {
      components.delete(name);
      continue;
    }
    const inherited = components.get(name);
    const required = entry.required ?? inherited?.required;
    if (required === undefined) {
      throw new TrendflowError('invalid_argument', `profile ${raw.name}: component ${name} must say whether it is required ("required": true or false)`, { path: file });
    }
    components.set(name, { required, params: { ...inherited?.params, ...entry.params } });
  }
  return {
    name: raw.name,
    description: raw.description,
    file,
    segmenter: { ...base.segmenter, ...raw.segmenter },
    components,
  };
}

const DEFAULT_SEGMENTER: SegmenterSettings = {
  analysis_fps: DEFAULT_POLICY_PARAMS.analysis_fps,
  analysis_short_side: DEFAULT_POLICY_PARAMS.analysis_short_side,
};
