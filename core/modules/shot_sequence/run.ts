/**
 * shot_sequence: the per-shot token sequence of the v2 model (seed 002 §3: token = shot, at most 256) in
 * `shot_sequence/sequence.npz` (README.md).
 */
import type { ManifestArtifact } from '../../contracts/manifest.js';
import { getArray, ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import { dependencySignatures, loadInput, type ModuleContext } from '../common/inputs.js';
import { readShots, SHOTS_SCHEMA_VERSION, unionFrameShots } from '../common/shots.js';
import { mergeShortest, type TokenRun } from './merge.js';

export const SHOT_SEQUENCE_PRODUCER_VERSION = '1.0.0';
export const SHOT_SEQUENCE_SCHEMA_VERSION = 'shot_sequence_npz_v1';
export const SHOT_SEQUENCE_ARTIFACT = 'sequence.npz';
/** seed 002 §3: max_len_shots = 256 for the MVP. */
export const MAX_TOKENS = 256;
export const MERGE_RULE = 'shortest_into_shorter_neighbour_v1';
/** clap_extractor's schema with window embeddings. */
const CLAP_SCHEMA_VERSION = 'audio_npz_v2';

export type ShotSequenceResult = { status: 'ok'; artifact: ManifestArtifact; tokens: TokenRun[] } | { status: 'empty'; artifact: null; tokens: [] };

/** A weighted mean of rows of an (n, dim) matrix per group, back to unit length; NaN rows for empty groups. */
function pool(matrix: Float32Array, dim: number, groups: Array<Array<{ row: number; weight: number }>>): Float32Array {
  const out = new Float32Array(groups.length * dim).fill(Number.NaN);
  groups.forEach((members, g) => {
    if (members.length === 0) return;
    const sum = new Float64Array(dim);
    for (const { row, weight } of members) for (let k = 0; k < dim; k++) sum[k] = sum[k]! + weight * matrix[row * dim + k]!;
    const norm = Math.hypot(...sum);
    if (!(norm > 0)) return;
    for (let k = 0; k < dim; k++) out[g * dim + k] = sum[k]! / norm;
  });
  return out;
}

export async function runShotSequence(ctx: ModuleContext, maxTokens = MAX_TOKENS): Promise<ShotSequenceResult> {
  const cut = await loadInput(ctx, 'cut_detection', SHOTS_SCHEMA_VERSION);
  if (!cut) return { status: 'empty', artifact: null, tokens: [] };
  const clip = await loadInput(ctx, 'core_clip', 'core_clip_npz_v1');
  const clap = await loadInput(ctx, 'clap_extractor', CLAP_SCHEMA_VERSION);
  const shots = readShots(cut);
  const runs = mergeShortest(Array.from(shots.endSec, (end, s) => end - shots.startSec[s]!), maxTokens);
  const T = runs.length;
  const tokenStart = runs.map((r) => shots.startSec[r.first]!);
  const tokenEnd = runs.map((r) => shots.endSec[r.last]!);
  const tokenOfShot = new Int32Array(shots.count);
  runs.forEach((r, k) => tokenOfShot.fill(k, r.first, r.last + 1));

  // E_shot: core_clip's frame embeddings, mean-pooled per token and back to unit length
  let visual: Float32Array = new Float32Array(0);
  let D = 0;
  const visualRows: Array<Array<{ row: number; weight: number }>> = Array.from({ length: T }, () => []);
  if (clip) {
    const shotOf = unionFrameShots(shots);
    const indices = getArray(clip.npz, 'frame_indices', 'int32', clip.input.path).data;
    const embeddings = getArray(clip.npz, 'frame_embeddings', 'float32', clip.input.path);
    D = embeddings.shape[1]!;
    indices.forEach((u, row) => {
      const shot = shotOf(u);
      if (shot >= 0) visualRows[tokenOfShot[shot]!]!.push({ row, weight: 1 });
    });
    visual = pool(embeddings.data, D, visualRows);
  }

  // A_shot: clap_extractor's window embeddings overlapping the token, weighted by the overlap, back to unit length
  // (its windows, 10 s by default, are longer than most shots, so a window is shared by the tokens it covers)
  const audioRows: Array<Array<{ row: number; weight: number }>> = Array.from({ length: T }, () => []);
  let audio: Float32Array = new Float32Array(0);
  let Da = 0;
  if (clap && clap.input.status === 'ok') {
    const file = clap.input.path;
    const starts = getArray(clap.npz, 'window_start_sec', 'float32', file).data;
    const ends = getArray(clap.npz, 'window_end_sec', 'float32', file).data;
    const embeddings = getArray(clap.npz, 'window_embeddings', 'float32', file);
    Da = embeddings.shape[1]!;
    for (let k = 0; k < T; k++) {
      starts.forEach((start, row) => {
        const overlap = Math.min(ends[row]!, tokenEnd[k]!) - Math.max(start, tokenStart[k]!);
        if (overlap > 0) audioRows[k]!.push({ row, weight: overlap });
      });
    }
    audio = pool(embeddings.data, Da, audioRows);
  }

  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'shot_sequence',
    producerVersion: SHOT_SEQUENCE_PRODUCER_VERSION,
    schemaVersion: SHOT_SEQUENCE_SCHEMA_VERSION,
    status: 'ok',
    extra: {
      dependencies: dependencySignatures([cut, clip, clap]),
      max_tokens: maxTokens,
      merge_rule: MERGE_RULE,
      shot_count: shots.count,
      token_count: T,
      duration_sec: shots.durationSec,
      visual_source: clip ? { model_signature: clip.meta.model_signature ?? null, pooling: 'mean_l2_normalized' } : null,
      audio_source: clap ? { status: clap.input.status, empty_reason: clap.meta.empty_reason ?? null, pooling: 'overlap_weighted_mean_l2_normalized' } : null,
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'shot_sequence',
    SHOT_SEQUENCE_ARTIFACT,
    {
      token_start_sec: ndarray.float64(tokenStart),
      token_end_sec: ndarray.float64(tokenEnd),
      token_first_shot: ndarray.int32(runs.map((r) => r.first)),
      token_last_shot: ndarray.int32(runs.map((r) => r.last)),
      token_shot_count: ndarray.int32(runs.map((r) => r.last - r.first + 1)),
      e_shot: ndarray.float32(visual, [T, D]),
      e_shot_present: ndarray.bool(visualRows.map((rows) => rows.length > 0)),
      e_shot_frame_count: ndarray.int32(visualRows.map((rows) => rows.length)),
      a_shot: ndarray.float32(audio, [T, Da]),
      a_shot_present: ndarray.bool(audioRows.map((rows) => rows.length > 0)),
      a_shot_window_count: ndarray.int32(audioRows.map((rows) => rows.length)),
    },
    meta,
  );
  return { status: 'ok', artifact, tokens: runs };
}
