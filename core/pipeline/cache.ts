/**
 * The component cache (DESIGN.md §9, seed 003 Q3/Q19/Q37): an ok or empty component whose key equals an earlier
 * one's is not recomputed; its artifacts are hard-linked (copied where a link is impossible) into the new run and
 * its manifest entry says `cache_hit` and the run that computed them.
 *
 * The key is known before the component runs: platform_id, video_id, component, the component's config hash
 * (params + the resolved models, i.e. the pinned model versions and weight digests), sampling_policy_version,
 * producer_version, schema_version, and the signatures of its inputs (the upstream artifacts' sha256, the source
 * video's sha256 and the segmenter settings for frame readers, the metadata/snapshot digests, and what the
 * component's `cacheInputs` reports, e.g. the digests of prediction model folders). Any change in a
 * model, a param, a version or an input is a new key; there is no "compatible" reuse (seed 003 Round 2 Q1).
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { ComponentName } from '../contracts/components.js';
import { isTrendflowError } from '../contracts/errors.js';
import type { ManifestComponent } from '../contracts/manifest.js';
import type { RunIdentity } from '../contracts/meta.js';
import { SEGMENTER_VERSION } from '../segmenter/metadata.js';
import { hashFile } from '../store/hash.js';
import { configHash } from '../store/identity.js';
import { readManifest } from '../store/manifest.js';
import type { ComponentDefinition } from './component.js';
import type { RunRequest } from './request.js';
import { componentConfigHash, type ResolvedComponent } from './run-config.js';

export const CACHE_KEY_VERSION = 'cache_key_v1';

export interface CacheKeyInput {
  identity: RunIdentity;
  definition: ComponentDefinition<unknown>;
  component: ResolvedComponent;
  request: RunRequest;
  /** Every frame component of the run: the segmenter's union depends on them, and frame_indices index the union. */
  frameComponents: readonly ComponentName[];
  /** Signature of each declared dependency's artifact in this run (null: not there). */
  dependencies: Partial<Record<ComponentName, string | null>>;
  /** The component's `cacheInputs` (absent for components without that hook: their keys stay as they were). */
  external?: unknown;
}

/** The cache key (hex sha256 of the canonical JSON of the fields above). */
export function cacheKey(input: CacheKeyInput): string {
  const { definition, request } = input;
  const uses = definition.uses;
  const readsVideo = uses.frames || uses.signals || uses.audio;
  return configHash({
    key_version: CACHE_KEY_VERSION,
    platform_id: input.identity.platform_id,
    video_id: input.identity.video_id,
    component: definition.name,
    component_config_hash: componentConfigHash(input.component),
    sampling_policy_version: input.identity.sampling_policy_version,
    producer_version: definition.producerVersion,
    schema_version: definition.schemaVersion,
    inputs: {
      video_sha256: readsVideo ? request.inputs.video.sha256 : null,
      frames:
        uses.frames || uses.signals
          ? { segmenter_version: SEGMENTER_VERSION, settings: request.config.segmenter, frame_components: [...input.frameComponents].sort() }
          : null,
      metadata_sha256: uses.metadata ? (request.inputs.metadata?.sha256 ?? null) : null,
      snapshots_digest: uses.snapshots ? (request.inputs.snapshots?.digest ?? null) : null,
      dependencies: input.dependencies,
      ...(input.external === undefined ? {} : { external: input.external }),
    },
  });
}

/** Where earlier results with a key may be (the run index answers this; manifests are checked before reuse). */
export interface CacheLookup {
  candidates(key: string, component: ComponentName): { run_dir: string; run_id: string }[];
}

export interface CacheReuse {
  /** The reused result's manifest entry (cache_hit, the run that computed it), and how its files came over. */
  hit: { entry: ManifestComponent; how: 'hard link' | 'copy' } | null;
  /** Candidates that could not be used, and why (a deleted, changed or tampered source run). */
  skipped: string[];
}

/**
 * Reuses the newest earlier result with this key: the candidate's manifest must still list the component with
 * the same key and status ok or empty; its artifacts are linked (or copied) into `runDir` and their sha256
 * checked against that manifest. A candidate that fails any check is skipped, and said so; `hit` is null when no
 * candidate is usable. Never reuses from the run itself.
 */
export async function reuseCached(lookup: CacheLookup, key: string, component: ComponentName, runDir: string, runId: string): Promise<CacheReuse> {
  const skipped: string[] = [];
  for (const candidate of lookup.candidates(key, component)) {
    if (candidate.run_id === runId) continue;
    let source: ManifestComponent | undefined;
    try {
      source = (await readManifest(candidate.run_dir)).components.find((c) => c.name === component);
    } catch (error) {
      if (!isTrendflowError(error)) throw error;
      skipped.push(`run ${candidate.run_id}: ${error.code}`);
      continue;
    }
    if (!source || source.status === 'error' || source.cache_key !== key) {
      skipped.push(`run ${candidate.run_id}: its manifest no longer has this result`);
      continue;
    }
    const linked = await linkArtifacts(source, candidate.run_dir, runDir, component);
    if (linked !== 'hard link' && linked !== 'copy') {
      skipped.push(`run ${candidate.run_id}: ${linked}`);
      continue;
    }
    const entry = {
      ...source,
      notes: [],
      cache_key: key,
      // nothing was computed here: the source's metrics describe its run, not this one
      metrics: null,
      cache_hit: true,
      // the run that computed the artifacts (their meta run_id), also when the source itself reused them
      cache_source_run_id: source.cache_hit ? source.cache_source_run_id : candidate.run_id,
    } as ManifestComponent;
    return { hit: { entry, how: linked }, skipped };
  }
  return { hit: null, skipped };
}

/** Links or copies every artifact of `source` into the run, checking each against its manifest digest. */
async function linkArtifacts(source: ManifestComponent, sourceRunDir: string, runDir: string, component: ComponentName): Promise<'hard link' | 'copy' | string> {
  const target = path.join(runDir, component);
  await fs.rm(target, { recursive: true, force: true });
  let how: 'hard link' | 'copy' = 'hard link';
  try {
    for (const artifact of source.artifacts) {
      const from = path.join(sourceRunDir, ...artifact.path.split('/'));
      const to = path.join(runDir, ...artifact.path.split('/'));
      await fs.mkdir(path.dirname(to), { recursive: true });
      try {
        await fs.link(from, to);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // another filesystem, or one without hard links: a copy (a reflink where the filesystem can)
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw error;
        await fs.copyFile(from, to, fsConstants.COPYFILE_FICLONE);
        how = 'copy';
      }
      const digest = await hashFile(to);
      if (digest.sha256 !== artifact.sha256 || digest.bytes !== artifact.bytes) {
        throw new Error(`${artifact.path} no longer matches its manifest digest`);
      }
    }
  } catch (error) {
    await fs.rm(target, { recursive: true, force: true });
    return isTrendflowError(error) ? error.code : (error as Error).message;
  }
  return how;
}
