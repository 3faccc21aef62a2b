import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isTrendflowError } from '../contracts/errors.js';
import { MANIFEST_FILE_NAME, type Manifest, type ManifestComponent, type StoredManifest } from '../contracts/manifest.js';
import type { RunIdentity } from '../contracts/meta.js';
import { checkStoredManifest, hashFile, manifestPath, RUN_LOCK_FILE } from '../store/index.js';
import type { ArtifactSchema } from './format.js';
import type { Problem, ProblemCode } from './problems.js';
import { reprOf, scalarOf, type PyDict } from './pyvalues.js';
import { loadSchema } from './registry.js';
import { validateNpzFile } from './validate-npz.js';

export interface ValidateRunOptions {
  /** Relaxes the meta check of every NPZ (see ValidateNpzOptions.requiredMetaKeys). */
  requiredMetaKeys?: readonly string[];
}

export interface RunValidation {
  ok: boolean;
  problems: Problem[];
  /**
   * The manifest, upgraded to the current version when the file is an older one (null when it is missing or
   * invalid, in which case nothing else was checked).
   */
  manifest: Manifest | null;
  /** The version the file says: an older version is valid for that version and no problem (null when invalid). */
  manifest_version: StoredManifest['manifest_version'] | null;
  /** Paths (relative to the run folder) of the artifacts the manifest lists, all of which were checked. */
  artifacts: string[];
}

const IDENTITY_FIELDS = [
  'platform_id',
  'video_id',
  'run_id',
  'config_hash',
  'sampling_policy_version',
  'dataprocessor_version',
] as const satisfies ReadonlyArray<keyof RunIdentity>;

/**
 * Identity fields a reused artifact shares with the run reusing it: the cache key covers the video and the
 * sampling policy, while run_id is the source run's and the run-wide config_hash and dataprocessor_version may
 * differ (DESIGN.md §9).
 */
const CACHE_HIT_SHARED_FIELDS: ReadonlyArray<keyof RunIdentity> = ['platform_id', 'video_id', 'sampling_policy_version'];

type Report = (code: ProblemCode, message: string, file: string, key?: string) => void;

async function loadManifest(runDir: string, report: Report): Promise<{ manifest: Manifest; version: StoredManifest['manifest_version'] } | null> {
  const file = manifestPath(runDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    report(missing ? 'manifest_not_found' : 'file_read_failed', missing ? 'not a run folder: no manifest.json' : (error as Error).message, file);
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    report('manifest_invalid', `not valid JSON: ${(error as Error).message}`, file);
    return null;
  }
  // one problem per schema error, rather than readManifest's single summarised error
  const check = checkStoredManifest(value);
  for (const error of check.errors) report('manifest_invalid', error, file);
  return check.manifest && check.storedVersion ? { manifest: check.manifest, version: check.storedVersion } : null;
}

function schemaFor(component: string): ArtifactSchema | null {
  try {
    return loadSchema(component);
  } catch (error) {
    if (isTrendflowError(error) && error.code === 'schema_not_found') return null;
    throw error;
  }
}

/** Cross-checks an artifact's meta with the manifest's run identity and component entry. */
function compareWithManifest(meta: PyDict, manifest: Manifest, component: ManifestComponent, file: string, report: Report): void {
  const compare = (code: ProblemCode, field: string, expected: string | null, source: string) => {
    // a field missing from meta has been reported by the NPZ validation already (unless relaxed)
    if (!Object.hasOwn(meta, field)) return;
    const actual = meta[field];
    if (scalarOf(actual) !== expected) report(code, `is ${reprOf(actual)} but ${source} has ${reprOf(expected)}`, file, `meta.${field}`);
  };
  const entry = `the manifest's ${component.name} entry`;

  if (component.cache_hit) {
    for (const field of CACHE_HIT_SHARED_FIELDS) compare('identity_mismatch', field, manifest.run[field], 'manifest.run');
    compare('identity_mismatch', 'run_id', component.cache_source_run_id, `${entry} (cache_source_run_id)`);
  } else {
    for (const field of IDENTITY_FIELDS) compare('identity_mismatch', field, manifest.run[field], 'manifest.run');
  }
  compare('component_mismatch', 'producer', component.name, `${entry} (name)`);
  compare('component_mismatch', 'status', component.status, entry);
  compare('component_mismatch', 'empty_reason', component.empty_reason, entry);
  compare('component_mismatch', 'producer_version', component.producer_version, entry);
  compare('component_mismatch', 'schema_version', component.schema_version, entry);
  compare('component_mismatch', 'model_signature', component.model_signature, entry);
}

async function checkComponent(
  runDir: string,
  manifest: Manifest,
  component: ManifestComponent,
  options: ValidateRunOptions,
  report: Report,
  problems: Problem[],
): Promise<void> {
  const schema = schemaFor(component.name);
  // a component that never ran because a required input was missing may have written nothing (DESIGN.md §7)
  const neverRan = component.status === 'empty' && component.empty_reason === 'dependency_missing' && component.artifacts.length === 0;
  if (schema && component.status !== 'error' && !neverRan && !component.artifacts.some((a) => path.posix.basename(a.path) === schema.artifact)) {
    report(
      'artifact_missing',
      `${component.name} has status ${component.status} but the manifest lists no ${schema.artifact}`,
      path.join(runDir, component.name, schema.artifact),
    );
  }

  for (const artifact of component.artifacts) {
    const file = path.join(runDir, ...artifact.path.split('/'));
    if (!artifact.path.startsWith(`${component.name}/`)) {
      report('artifact_path_invalid', `artifacts of ${component.name} live under ${component.name}/ (listed as ${artifact.path})`, file);
    }
    if (artifact.path.endsWith('.json')) {
      report('forbidden_json', 'result_store holds no JSON but manifest.json (DESIGN.md §4)', file);
    }
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      report('artifact_missing', `listed in manifest.json for ${component.name} but not found`, file);
      continue;
    }
    if (!stat.isFile()) {
      report('artifact_missing', `listed in manifest.json for ${component.name} but not a file`, file);
      continue;
    }
    try {
      const digest = await hashFile(file);
      if (digest.bytes !== artifact.bytes) {
        report('artifact_size_mismatch', `manifest.json says ${artifact.bytes} bytes, the file has ${digest.bytes}`, file);
      }
      if (digest.sha256 !== artifact.sha256) {
        report('artifact_sha256_mismatch', `manifest.json says sha256 ${artifact.sha256}, the file has ${digest.sha256}`, file);
      }
    } catch (error) {
      if (!isTrendflowError(error)) throw error;
      report(error.code, error.message, file);
      continue;
    }
    if (!artifact.path.endsWith('.npz')) continue;

    if (schema && path.posix.basename(artifact.path) !== schema.artifact) {
      report('artifact_path_invalid', `${component.name}'s artifact is named ${schema.artifact} (schemas/${component.name}.json)`, file);
    }
    const result = await validateNpzFile(file, options.requiredMetaKeys ? { requiredMetaKeys: options.requiredMetaKeys } : {});
    problems.push(...result.problems);
    if (result.meta) compareWithManifest(result.meta, manifest, component, file, report);
  }
}

/** Every file under `dir`, as sorted relative paths with forward slashes (the manifest's form). */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else files.push(relative);
  }
  return files.sort();
}

async function checkUnlisted(runDir: string, listed: Set<string>, report: Report): Promise<void> {
  for (const relative of await listFiles(runDir)) {
    // the lock exists while a writer is working on the run; it is the store's, not an artifact
    if (listed.has(relative) || relative === MANIFEST_FILE_NAME || relative === RUN_LOCK_FILE) continue;
    const file = path.join(runDir, ...relative.split('/'));
    const extension = path.extname(relative).toLowerCase();
    if (extension === '.json') {
      report('forbidden_json', 'result_store holds no JSON but manifest.json (DESIGN.md §4)', file);
    } else if (extension === '.npz' || extension === '.npy') {
      report('unlisted_artifact', 'not listed in manifest.json, so nothing vouches for it', file);
    } else {
      report('unlisted_file', 'not listed in manifest.json (a run folder holds only the manifest and listed artifacts)', file);
    }
  }
}

/**
 * Validates a run folder: manifest.json against its schema; every artifact it lists (present, size and sha256
 * as recorded, NPZ against its schema, meta identity equal to manifest.run, producer/status/versions equal to
 * the component entry); and the folder holds nothing else (no unlisted NPZ/NPY, no JSON but manifest.json).
 */
export async function validateRunDir(runDir: string, options: ValidateRunOptions = {}): Promise<RunValidation> {
  const problems: Problem[] = [];
  const report: Report = (code, message, file, key) => {
    problems.push({ path: file, ...(key === undefined ? {} : { key }), code, message });
  };
  const loaded = await loadManifest(runDir, report);
  if (!loaded) return { ok: false, problems, manifest: null, manifest_version: null, artifacts: [] };
  const { manifest } = loaded;

  const artifacts = manifest.components.flatMap((component) => component.artifacts.map((artifact) => artifact.path));
  for (const component of manifest.components) {
    await checkComponent(runDir, manifest, component, options, report, problems);
  }
  await checkUnlisted(runDir, new Set(artifacts), report);
  return { ok: problems.length === 0, problems, manifest, manifest_version: loaded.version, artifacts };
}
