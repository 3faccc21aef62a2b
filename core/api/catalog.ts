/**
 * The runs the API may show: exactly those of one result_store, found by core/store's listRuns and named by
 * identity (never by path). A reference resolves to a run folder only when every level is a real folder (no
 * symbolic link leads out of the store) and it holds a manifest.json; artifacts are opened only as the manifest
 * lists them, inside the run folder.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ComponentName } from '../contracts/components.js';
import { isTrendflowError, TrendflowError } from '../contracts/errors.js';
import type { Manifest, ManifestComponent } from '../contracts/manifest.js';
import { readNpzFile, type NpzContents } from '../npz/index.js';
import { loadSchema } from '../schema/index.js';
import { framesDir, listRuns, manifestPath, readManifest, runDir, type RunLocation } from '../store/index.js';
import type { RunRef, RunSummary, Unavailable } from './contract.js';

/** A run resolved to its folder, with its manifest. */
export interface OpenRun {
  ref: RunRef;
  dir: string;
  manifest: Manifest;
}

interface CachedManifest {
  mtimeMs: number;
  size: number;
  manifest: Manifest | null;
  problem: TrendflowError | null;
}

/** At most this many manifests are read at once when listing. */
const READ_CONCURRENCY = 16;

export class RunCatalog {
  /** Manifests by file, reused while their size and mtime are unchanged. */
  readonly #manifests = new Map<string, CachedManifest>();

  constructor(
    readonly store: string,
    /** The workspace whose frames/ folder holds the runs' frames_dirs. */
    readonly workspace: string,
  ) {}

  async list(): Promise<Array<{ location: RunLocation; summary: RunSummary }>> {
    const locations = await listRuns(this.store);
    const out: Array<{ location: RunLocation; summary: RunSummary }> = new Array(locations.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < locations.length) {
        const index = next++;
        const location = locations[index]!;
        const cached = await this.#read(location.run_dir);
        out[index] = { location, summary: summarize(location, cached.manifest, cached.problem) };
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, locations.length) }, worker));
    // forget runs that are gone
    const present = new Set(locations.map((l) => manifestPath(l.run_dir)));
    for (const file of this.#manifests.keys()) if (!present.has(file)) this.#manifests.delete(file);
    return out;
  }

  /** The run folder of a reference: `run_not_found` unless it is a run of this store. */
  async locate(ref: RunRef): Promise<string> {
    const dir = runDir(this.store, ref);
    let current = path.resolve(this.store);
    for (const segment of [ref.platform_id, ref.video_id, ref.run_id]) {
      current = path.join(current, segment);
      const stat = await fs.lstat(current).catch(() => null);
      if (!stat?.isDirectory()) throw new TrendflowError('run_not_found', `no run ${describeRef(ref)} in the store`, { path: this.store });
    }
    const manifest = await fs.lstat(manifestPath(dir)).catch(() => null);
    if (!manifest?.isFile()) throw new TrendflowError('run_not_found', `no run ${describeRef(ref)} in the store (no manifest.json)`, { path: this.store });
    return dir;
  }

  async open(ref: RunRef): Promise<OpenRun> {
    const dir = await this.locate(ref);
    const cached = await this.#read(dir);
    if (!cached.manifest) throw cached.problem!;
    return { ref: { platform_id: ref.platform_id, video_id: ref.video_id, run_id: ref.run_id }, dir, manifest: cached.manifest };
  }

  summary(ref: RunRef, manifest: Manifest): RunSummary {
    return summarize({ ...ref, run_dir: '' }, manifest, null);
  }

  /** The frames_dir the segmenter wrote for this run (it may be gone: a short TTL). */
  framesDir(ref: RunRef): string {
    return framesDir(this.workspace, ref);
  }

  async #read(dir: string): Promise<CachedManifest> {
    const file = manifestPath(dir);
    const stat = await fs.stat(file).catch(() => null);
    const cached = this.#manifests.get(file);
    if (stat && cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    let entry: CachedManifest;
    try {
      entry = { mtimeMs: stat?.mtimeMs ?? 0, size: stat?.size ?? 0, manifest: await readManifest(dir), problem: null };
    } catch (error) {
      if (!isTrendflowError(error)) throw error;
      entry = { mtimeMs: stat?.mtimeMs ?? 0, size: stat?.size ?? 0, manifest: null, problem: error };
    }
    this.#manifests.set(file, entry);
    return entry;
  }
}

export function describeRef(ref: RunRef): string {
  return `${ref.platform_id}/${ref.video_id}/${ref.run_id}`;
}

function summarize(location: RunLocation | (RunRef & { run_dir: string }), manifest: Manifest | null, problem: TrendflowError | null): RunSummary {
  const ref = { platform_id: location.platform_id, video_id: location.video_id, run_id: location.run_id };
  if (!manifest) {
    return {
      ...ref,
      status: null,
      created_at: null,
      updated_at: null,
      source_name: null,
      source_bytes: null,
      components: { ok: 0, empty: 0, error: 0 },
      component_names: [],
      compute_ms: 0,
      problem: problem ? { code: problem.code, message: problem.message } : null,
    };
  }
  const counts = { ok: 0, empty: 0, error: 0 };
  for (const component of manifest.components) counts[component.status]++;
  return {
    ...ref,
    status: manifest.run.status,
    created_at: manifest.run.created_at,
    updated_at: manifest.run.updated_at,
    source_name: manifest.run.source_path ? path.basename(manifest.run.source_path) : null,
    source_bytes: manifest.run.source_bytes ?? null,
    components: counts,
    component_names: manifest.components.map((c) => c.name),
    compute_ms: manifest.components.reduce((sum, c) => sum + c.duration_ms, 0),
    problem: null,
  };
}

/** A component's NPZ artifact (the one its schema names), opened; or why there is none. */
export type ComponentArtifact =
  | { available: true; component: ManifestComponent; file: string; npz: NpzContents }
  | Unavailable;

/**
 * Reads the artifact a component's schema names (`<component>/<artifact>`), as the manifest lists it. A component
 * missing from the manifest, failed, or (unless `allowEmpty`) empty gives the reason instead.
 */
export async function readComponentArtifact(run: OpenRun, name: ComponentName, options: { allowEmpty?: boolean; keys?: readonly string[] } = {}): Promise<ComponentArtifact> {
  const component = run.manifest.components.find((c) => c.name === name);
  if (!component) return { available: false, why: 'component_not_in_run', message: `${name} is not in this run` };
  if (component.status === 'error') {
    return { available: false, why: 'component_error', message: `${name} failed: ${component.error.error_code}: ${component.error.message}` };
  }
  if (component.status === 'empty' && !options.allowEmpty) {
    return { available: false, why: 'component_empty', message: `${name} is empty: ${component.empty_reason}` };
  }
  const expected = `${name}/${loadSchema(name).artifact}`;
  const listed = component.artifacts.find((a) => a.path === expected);
  if (!listed) throw new TrendflowError('artifact_invalid', `the manifest lists no ${expected} for ${name}`, { path: manifestPath(run.dir) });
  const file = path.join(run.dir, ...listed.path.split('/'));
  // the manifest schema forbids `..` segments; a tampered manifest still cannot lead outside the run folder
  if (!file.startsWith(run.dir + path.sep)) throw new TrendflowError('artifact_invalid', `artifact path ${listed.path} leaves the run folder`, { path: run.dir });
  const stat = await fs.lstat(file).catch(() => null);
  if (!stat?.isFile()) throw new TrendflowError('artifact_invalid', `${listed.path} is listed in the manifest but is not a file`, { path: file });
  return { available: true, component, file, npz: await readNpzFile(file, options.keys ? { keys: options.keys } : {}) };
}
