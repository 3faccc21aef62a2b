/**
 * targets_builder_multi_horizon: log1p deltas of views and likes from snapshot 1 (t0) to the snapshots at
 * 7/14/21 days, matched by their real collection times (seed 002 §1). See README.md.
 */
import { ndarray } from '../../npz/index.js';
import { artifactMeta, writeArtifact } from '../../pipeline/artifact.js';
import { outcomeWithoutModels } from '../../pipeline/outcome.js';
import type { ComponentOutcome, ComponentRunContext } from '../../pipeline/component.js';
import { namedVideoId, readSnapshots, type Snapshot, type SnapshotCounter } from '../snapshots.js';

export const TARGETS_PRODUCER_VERSION = '1.0.0';
export const TARGETS_SCHEMA_VERSION = 'targets_builder_multi_horizon_npz_v1';
export const TARGETS_ARTIFACT = 'targets.npz';

export interface TargetsConfig {
  /** Nominal horizons in days, increasing. */
  horizons_days: number[];
  /** A snapshot serves a horizon when its elapsed time from t0 is within this many days of it. */
  tolerance_days: number;
}

export const DEFAULT_TARGETS_CONFIG: Readonly<TargetsConfig> = { horizons_days: [7, 14, 21], tolerance_days: 1 };

const DAY_MS = 86_400_000;

export interface HorizonTarget {
  horizonDays: number;
  /** The snapshot used, null when none was collected within the tolerance. */
  snapshot: Snapshot | null;
  elapsedDays: number;
  views: MetricTarget;
  likes: MetricTarget;
}

export interface MetricTarget {
  /** log1p(max(delta, 0)); NaN when the horizon or a count is missing. */
  y: number;
  /** metric(t_k) − metric(t0); NaN when missing. */
  delta: number;
  present: boolean;
  /** The count went down (delta < 0): y was clipped to 0. */
  negative: boolean;
}

function metricTarget(t0: Snapshot, tk: Snapshot | null, counter: SnapshotCounter): MetricTarget {
  const before = t0.counts[counter];
  const after = tk?.counts[counter] ?? null;
  if (before === null || after === null) return { y: Number.NaN, delta: Number.NaN, present: false, negative: false };
  const delta = after - before;
  return { y: Math.log1p(Math.max(delta, 0)), delta, present: true, negative: delta < 0 };
}

/**
 * The targets of every horizon. Each horizon takes the later snapshot whose elapsed time from t0 is nearest to it,
 * when within `tolerance_days`; snapshots that serve no horizon are returned as `unmatched`.
 */
export function buildTargets(snapshots: Snapshot[], config: TargetsConfig): { targets: HorizonTarget[]; unmatched: Snapshot[] } {
  const [t0, ...later] = snapshots;
  if (!t0) throw new RangeError('targets need snapshot 1');
  const elapsed = (s: Snapshot) => (s.collectedAt.getTime() - t0.collectedAt.getTime()) / DAY_MS;
  const used = new Set<Snapshot>();
  const targets = config.horizons_days.map((horizonDays): HorizonTarget => {
    let best: Snapshot | null = null;
    for (const s of later) {
      const distance = Math.abs(elapsed(s) - horizonDays);
      if (distance <= config.tolerance_days && (best === null || distance < Math.abs(elapsed(best) - horizonDays))) best = s;
    }
    if (best) used.add(best);
    return {
      horizonDays,
      snapshot: best,
      elapsedDays: best ? elapsed(best) : Number.NaN,
      views: metricTarget(t0, best, 'viewCount'),
      likes: metricTarget(t0, best, 'likeCount'),
    };
  });
  return { targets, unmatched: later.filter((s) => !used.has(s)) };
}

export type TargetsContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'snapshotsDir'>;

export async function runTargetsBuilder(ctx: TargetsContext, config: TargetsConfig = DEFAULT_TARGETS_CONFIG): Promise<ComponentOutcome> {
  if (!ctx.snapshotsDir) return write(ctx, config, null, ['no snapshots folder was given (--snapshots)']);
  const set = await readSnapshots(ctx.snapshotsDir, namedVideoId(ctx.identity.video_id));
  const notes = set.ignored.length > 0 ? [`not snapshots, ignored: ${set.ignored.join(', ')}`] : [];
  if (set.snapshots.length === 0) return write(ctx, config, null, [...notes, `${set.dir} holds no snapshot (*.json)`]);
  const built = buildTargets(set.snapshots, config);
  for (const s of built.unmatched) notes.push(`${s.file} (${((s.collectedAt.getTime() - set.snapshots[0]!.collectedAt.getTime()) / DAY_MS).toFixed(2)} days after t0) matches no horizon`);
  for (const t of built.targets) if (!t.snapshot) notes.push(`no snapshot within ${config.tolerance_days} day(s) of ${t.horizonDays} days`);
  return write(ctx, config, { t0: set.snapshots[0]!, ...built }, notes);
}

async function write(
  ctx: TargetsContext,
  config: TargetsConfig,
  built: { t0: Snapshot; targets: HorizonTarget[] } | null,
  notes: string[],
): Promise<ComponentOutcome> {
  const status = built ? 'ok' : 'empty';
  const h = config.horizons_days.length;
  const targets = built?.targets ?? [];
  const per = <T>(pick: (t: HorizonTarget) => T, missing: T): T[] => (built ? targets.map(pick) : new Array<T>(h).fill(missing));
  const meta = artifactMeta({
    identity: ctx.identity,
    producer: 'targets_builder_multi_horizon',
    producerVersion: TARGETS_PRODUCER_VERSION,
    schemaVersion: TARGETS_SCHEMA_VERSION,
    status,
    emptyReason: built ? null : 'dependency_missing',
    extra: {
      snapshot1: built ? { file: built.t0.file, collected_at: built.t0.collectedAt.toISOString() } : null,
      horizon_snapshots: per((t) => (t.snapshot ? { file: t.snapshot.file, collected_at: t.snapshot.collectedAt.toISOString() } : null), null),
      tolerance_days: config.tolerance_days,
      negative_delta_rule: 'y = log1p(max(delta, 0)); delta and *_delta_negative keep what was clipped',
      notes,
    },
  });
  const artifact = await writeArtifact(
    ctx.runDir,
    'targets_builder_multi_horizon',
    TARGETS_ARTIFACT,
    {
      horizons_days: ndarray.int32(config.horizons_days),
      has_horizon: ndarray.bool(per((t) => t.snapshot !== null, false)),
      elapsed_days: ndarray.float32(per((t) => t.elapsedDays, Number.NaN)),
      y_views: ndarray.float32(per((t) => t.views.y, Number.NaN)),
      y_views_present: ndarray.bool(per((t) => t.views.present, false)),
      y_likes: ndarray.float32(per((t) => t.likes.y, Number.NaN)),
      y_likes_present: ndarray.bool(per((t) => t.likes.present, false)),
      delta_views: ndarray.float64(per((t) => t.views.delta, Number.NaN)),
      delta_likes: ndarray.float64(per((t) => t.likes.delta, Number.NaN)),
      views_delta_negative: ndarray.bool(per((t) => t.views.negative, false)),
      likes_delta_negative: ndarray.bool(per((t) => t.likes.negative, false)),
    },
    meta,
  );
  return outcomeWithoutModels(status, built ? null : 'dependency_missing', [artifact], notes);
}
