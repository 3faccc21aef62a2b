/**
 * A compact histogram-based gradient-boosted regression tree learner (L2 loss), written here because no well-kept
 * Node library fits: `ml-xgboost` is an unmaintained WebAssembly port without NaN routing in its API,
 * `@tensorflow/tfjs-tfdf` is an inference-only alpha, `ml-random-forest` has no boosting and no missing values.
 *
 * The algorithm is LightGBM's in miniature: each feature is cut into at most `bins` quantile bins on the training
 * rows, trees grow depth-first on per-bin gradient histograms (the larger child's histogram is the parent's minus
 * the smaller one's), and every split learns a default direction for NaN (the side that gains more when the node
 * has missing values, the larger side when it has none). Rows are subsampled per tree with a seeded generator.
 */

/** One regression tree as flat arrays; node 0 is the root, `feature < 0` marks a leaf. */
export interface Tree {
  feature: number[];
  /** A row goes left when its value is <= threshold (a value seen in training, so float32 comparisons agree). */
  threshold: number[];
  /** Where a NaN goes. */
  nan_left: boolean[];
  left: number[];
  right: number[];
  /** Leaf values, learning rate included (0 for inner nodes). */
  value: number[];
}

export interface GbtParams {
  trees: number;
  learningRate: number;
  maxDepth: number;
  /** At most this many bins per feature (<= 255: bin codes are bytes, 255 is NaN). */
  bins: number;
  minRowsPerLeaf: number;
  /** L2 regularisation of leaf values. */
  lambda: number;
  /** Share of the head's training rows each tree sees. */
  subsample: number;
}

export const DEFAULT_GBT_PARAMS: GbtParams = {
  trees: 100,
  learningRate: 0.1,
  maxDepth: 5,
  bins: 64,
  minRowsPerLeaf: 20,
  lambda: 1,
  subsample: 0.8,
};

const NAN_BIN = 255;

/** The training rows of X cut into quantile bins, one byte column per feature. */
export interface BinnedFeatures {
  rows: number;
  /** Per feature, the thresholds between bins (ascending); empty for a feature with fewer than two values. */
  edges: Float64Array[];
  /** Per feature, each row's bin: i when value <= edges[i] (first such), edges.length above them, NAN_BIN for NaN. */
  codes: Uint8Array[];
}

/** Quantile bin edges of one feature: real values of the data, so thresholds compare exactly with float32 inputs. */
function binEdges(values: number[], bins: number): Float64Array {
  values.sort((a, b) => a - b);
  const distinct: number[] = [];
  for (const v of values) if (distinct.length === 0 || distinct[distinct.length - 1] !== v) distinct.push(v);
  if (distinct.length <= bins) return Float64Array.from(distinct.slice(0, -1));
  const edges: number[] = [];
  for (let j = 1; j < bins; j++) {
    const v = values[Math.floor((j * values.length) / bins)]!;
    if (v !== distinct[distinct.length - 1] && (edges.length === 0 || edges[edges.length - 1]! < v)) edges.push(v);
  }
  return Float64Array.from(edges);
}

function binOf(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bins the rows `rowIds` of the row-major matrix `x` (rows × features); edges come from those rows only. */
export function binFeatures(x: Float32Array, features: number, rowIds: ArrayLike<number>, bins: number): BinnedFeatures {
  if (bins < 2 || bins > 255) throw new RangeError(`bins must be in 2..255, got ${bins}`);
  const rows = rowIds.length;
  const edges: Float64Array[] = [];
  const codes: Uint8Array[] = [];
  for (let f = 0; f < features; f++) {
    const present: number[] = [];
    for (let i = 0; i < rows; i++) {
      const v = x[rowIds[i]! * features + f]!;
      if (!Number.isNaN(v)) present.push(v);
    }
    const e = binEdges(present, bins);
    const c = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      const v = x[rowIds[i]! * features + f]!;
      c[i] = Number.isNaN(v) ? NAN_BIN : binOf(e, v);
    }
    edges.push(e);
    codes.push(c);
  }
  return { rows, edges, codes };
}

/** mulberry32: a tiny seeded generator (row subsampling here; reproducible data in tests and benchmarks), not cryptography. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Split {
  feature: number;
  bin: number;
  nanLeft: boolean;
  gain: number;
}

/** Per node: gradient sums and counts per feature × bin, slot `slots - 1` holding the NaN rows. */
interface Histogram {
  grad: Float64Array;
  count: Float64Array;
}

class TreeBuilder {
  private readonly slots: number;
  private readonly active: number[];
  readonly tree: Tree = { feature: [], threshold: [], nan_left: [], left: [], right: [], value: [] };
  /** The split bin per node (training only: rows are routed by bin code, not by value). */
  private readonly splitBin: number[] = [];

  constructor(
    private readonly binned: BinnedFeatures,
    private readonly grad: Float64Array,
    private readonly params: GbtParams,
  ) {
    this.slots = params.bins + 1;
    // a feature with a single value (or none) can never split
    this.active = binned.edges.flatMap((e, f) => (e.length > 0 ? [f] : []));
  }

  private histogram(rows: Int32Array): Histogram {
    // only the features that can split get slots: the rest of a wide, sparse X costs nothing per node
    const size = this.active.length * this.slots;
    const h: Histogram = { grad: new Float64Array(size), count: new Float64Array(size) };
    for (let a = 0; a < this.active.length; a++) {
      const f = this.active[a]!;
      const codes = this.binned.codes[f]!;
      const base = a * this.slots;
      const nanSlot = base + this.slots - 1;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const code = codes[r]!;
        const slot = code === NAN_BIN ? nanSlot : base + code;
        h.grad[slot]! += this.grad[r]!;
        h.count[slot]! += 1;
      }
    }
    return h;
  }

  private bestSplit(h: Histogram, sumGrad: number, count: number): Split | null {
    const { lambda, minRowsPerLeaf } = this.params;
    const parentScore = (sumGrad * sumGrad) / (count + lambda);
    let best: Split | null = null;
    for (let a = 0; a < this.active.length; a++) {
      const f = this.active[a]!;
      const base = a * this.slots;
      const nanGrad = h.grad[base + this.slots - 1]!;
      const nanCount = h.count[base + this.slots - 1]!;
      const bins = this.binned.edges[f]!.length + 1;
      let leftGrad = 0;
      let leftCount = 0;
      for (let b = 0; b < bins - 1; b++) {
        leftGrad += h.grad[base + b]!;
        leftCount += h.count[base + b]!;
        for (const nanLeft of nanCount > 0 ? [true, false] : [null]) {
          const lg = nanLeft ? leftGrad + nanGrad : leftGrad;
          const lc = nanLeft ? leftCount + nanCount : leftCount;
          const rg = sumGrad - lg;
          const rc = count - lc;
          if (lc < minRowsPerLeaf || rc < minRowsPerLeaf) continue;
          const gain = (lg * lg) / (lc + lambda) + (rg * rg) / (rc + lambda) - parentScore;
          if (gain > 1e-12 && (best === null || gain > best.gain)) {
            // no NaN at this node: unseen NaN follows the majority
            best = { feature: f, bin: b, nanLeft: nanLeft ?? lc >= rc, gain };
          }
        }
      }
    }
    return best;
  }

  private addNode(): number {
    const t = this.tree;
    t.feature.push(-1);
    t.threshold.push(0);
    t.nan_left.push(false);
    t.left.push(-1);
    t.right.push(-1);
    t.value.push(0);
    this.splitBin.push(-1);
    return t.feature.length - 1;
  }

  /** Grows the subtree of `rows`; `h` is their histogram, null at the depth limit (no split is searched there). */
  grow(rows: Int32Array, depth: number, h: Histogram | null): number {
    const node = this.addNode();
    let sumGrad = 0;
    for (let i = 0; i < rows.length; i++) sumGrad += this.grad[rows[i]!]!;
    const split = h === null ? null : this.bestSplit(h, sumGrad, rows.length);
    if (split === null) {
      this.tree.value[node] = (-sumGrad / (rows.length + this.params.lambda)) * this.params.learningRate;
      return node;
    }
    const codes = this.binned.codes[split.feature]!;
    const left: number[] = [];
    const right: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const code = codes[r]!;
      if (code === NAN_BIN ? split.nanLeft : code <= split.bin) left.push(r);
      else right.push(r);
    }
    const leftRows = Int32Array.from(left);
    const rightRows = Int32Array.from(right);
    const t = this.tree;
    t.feature[node] = split.feature;
    t.threshold[node] = this.binned.edges[split.feature]![split.bin]!;
    t.nan_left[node] = split.nanLeft;
    this.splitBin[node] = split.bin;
    if (depth + 1 >= this.params.maxDepth) {
      t.left[node] = this.grow(leftRows, depth + 1, null);
      t.right[node] = this.grow(rightRows, depth + 1, null);
      return node;
    }
    // histogram subtraction: build the smaller child's; the larger one's is the parent's minus it (in place: the
    // parent's is not needed again)
    const smallIsLeft = leftRows.length <= rightRows.length;
    const small = this.histogram(smallIsLeft ? leftRows : rightRows);
    const large = h!;
    for (let i = 0; i < large.grad.length; i++) {
      large.grad[i]! -= small.grad[i]!;
      large.count[i]! -= small.count[i]!;
    }
    t.left[node] = this.grow(leftRows, depth + 1, smallIsLeft ? small : large);
    t.right[node] = this.grow(rightRows, depth + 1, smallIsLeft ? large : small);
    return node;
  }

  root(rows: Int32Array): void {
    this.grow(rows, 0, this.params.maxDepth > 0 ? this.histogram(rows) : null);
  }

  /** The tree's value for binned training row r. */
  predictBinned(r: number): number {
    const t = this.tree;
    let node = 0;
    while (t.feature[node]! >= 0) {
      const code = this.binned.codes[t.feature[node]!]![r]!;
      node = (code === NAN_BIN ? t.nan_left[node] : code <= this.splitBin[node]!) ? t.left[node]! : t.right[node]!;
    }
    return t.value[node]!;
  }
}

export interface BoostedModel {
  /** The starting prediction: the mean target of the training rows. */
  base: number;
  trees: Tree[];
}

/**
 * Fits an L2 boosted model on the binned rows `rows` (indices into `binned`) with targets `y` (indexed like
 * `binned`'s rows). Deterministic given `seed`.
 */
export function fitBoosted(binned: BinnedFeatures, rows: Int32Array, y: Float64Array, params: GbtParams, seed: number): BoostedModel {
  if (rows.length === 0) throw new RangeError('no training rows');
  let base = 0;
  for (let i = 0; i < rows.length; i++) base += y[rows[i]!]!;
  base /= rows.length;
  const pred = new Float64Array(binned.rows).fill(base);
  const grad = new Float64Array(binned.rows);
  const random = seededRandom(seed);
  const trees: Tree[] = [];
  for (let round = 0; round < params.trees; round++) {
    for (const r of rows) grad[r] = pred[r]! - y[r]!;
    const sample = params.subsample >= 1 ? rows : rows.filter(() => random() < params.subsample);
    if (sample.length < 2 * params.minRowsPerLeaf) continue;
    const builder = new TreeBuilder(binned, grad, params);
    builder.root(sample);
    trees.push(builder.tree);
    for (const r of rows) pred[r]! += builder.predictBinned(r);
  }
  return { base, trees };
}

/** One tree's value for the row starting at `offset` of the row-major matrix `x`. */
export function predictTree(tree: Tree, x: ArrayLike<number>, offset: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) {
    const v = x[offset + tree.feature[node]!]!;
    node = (Number.isNaN(v) ? tree.nan_left[node] : v <= tree.threshold[node]!) ? tree.left[node]! : tree.right[node]!;
  }
  return tree.value[node]!;
}

export function predictBoosted(model: BoostedModel, x: ArrayLike<number>, offset: number): number {
  let sum = model.base;
  for (const tree of model.trees) sum += predictTree(tree, x, offset);
  return sum;
}
