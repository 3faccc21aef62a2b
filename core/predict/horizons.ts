/**
 * The targets are gains since snapshot 1 (targets_builder_multi_horizon), which only accumulate: a metric's 21-day
 * gain is never below its 14-day gain. A forecast whose quantiles say otherwise is rearranged: each quantile is
 * carried forward along its metric's horizons (a running maximum — the monotone rearrangement of Chernozhukov,
 * Fernández-Val and Galichon, which keeps the order of the quantiles and never moves an estimate away from a
 * monotone truth).
 */

/** Head indices of each metric in horizon order (`y_views_7d`, `y_views_14d`, …), for metrics with ≥ 2 horizons. */
export function horizonChains(targets: readonly string[]): number[][] {
  const chains = new Map<string, { head: number; days: number }[]>();
  targets.forEach((target, head) => {
    const match = /^(y_[a-z]+)_(\d+)d$/.exec(target);
    if (!match) return;
    chains.set(match[1]!, [...(chains.get(match[1]!) ?? []), { head, days: Number(match[2]) }]);
  });
  return [...chains.values()].filter((chain) => chain.length > 1).map((chain) => chain.sort((a, b) => a.days - b.days).map((c) => c.head));
}

/**
 * Rearranges `values` (rows × heads × quantiles, row-major) in place along `chains`; returns how many values it
 * raised (0 for a forecast that already accumulates).
 */
export function carryForwardHorizons(values: Float32Array | Float64Array, chains: readonly number[][], heads: number, quantiles: number): number {
  const rows = values.length / (heads * quantiles);
  let raised = 0;
  for (let r = 0; r < rows; r++) {
    for (const chain of chains) {
      for (let k = 1; k < chain.length; k++) {
        const [earlier, later] = [(r * heads + chain[k - 1]!) * quantiles, (r * heads + chain[k]!) * quantiles];
        for (let q = 0; q < quantiles; q++) {
          if (values[later + q]! < values[earlier + q]!) {
            values[later + q] = values[earlier + q]!;
            raised++;
          }
        }
      }
    }
  }
  return raised;
}
