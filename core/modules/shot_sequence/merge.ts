/**
 * The merge rule that keeps a shot sequence at most `maxTokens` long (seed 002 §3: max_len_shots = 256): while
 * there are too many tokens, the shortest token (the earliest of equals) is merged into its shorter neighbour (the
 * previous one of equals; the only one at either end). Tokens stay contiguous runs of shots in time order, so the
 * order and the time coverage are kept, and long shots, which carry the most screen time, stay whole the longest.
 */

/** A run of consecutive shots [first, last] (inclusive) that becomes one token. */
export interface TokenRun {
  first: number;
  last: number;
}

interface Entry {
  duration: number;
  first: number;
  id: number;
  version: number;
}

/** A binary min-heap on (duration, first shot). */
class MinHeap {
  private readonly items: Entry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(entry: Entry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Entry {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < items.length && before(items[l]!, items[smallest]!)) smallest = l;
        if (r < items.length && before(items[r]!, items[smallest]!)) smallest = r;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.duration < b.duration || (a.duration === b.duration && a.first < b.first);
}

/** Groups shots of the given durations into at most `maxTokens` runs by the merge rule (O(S log S)). */
export function mergeShortest(durations: readonly number[], maxTokens: number): TokenRun[] {
  const count = durations.length;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  const first = Array.from({ length: count }, (_, i) => i);
  const last = Array.from({ length: count }, (_, i) => i);
  const duration = [...durations];
  const previous = Array.from({ length: count }, (_, i) => i - 1);
  const next = Array.from({ length: count }, (_, i) => (i + 1 < count ? i + 1 : -1));
  const version = new Array<number>(count).fill(0);
  const alive = new Array<boolean>(count).fill(true);
  const heap = new MinHeap();
  for (let i = 0; i < count; i++) heap.push({ duration: duration[i]!, first: i, id: i, version: 0 });
  let tokens = count;
  while (tokens > maxTokens) {
    const entry = heap.pop();
    if (!alive[entry.id] || entry.version !== version[entry.id]) continue;
    const p = previous[entry.id]!;
    const n = next[entry.id]!;
    // the shorter neighbour takes it (the previous one of equals); merging keeps the survivor's id
    const into = p < 0 ? n : n < 0 ? p : duration[n]! < duration[p]! ? n : p;
    const [left, right] = into === p ? [p, entry.id] : [entry.id, n];
    // the left token absorbs the right one
    last[left] = last[right]!;
    duration[left] = duration[left]! + duration[right]!;
    next[left] = next[right]!;
    if (next[right]! >= 0) previous[next[right]!] = left;
    alive[right] = false;
    version[left]!++;
    heap.push({ duration: duration[left]!, first: first[left]!, id: left, version: version[left]! });
    tokens--;
  }
  const runs: TokenRun[] = [];
  for (let i = 0; i >= 0 && i < count; i = next[i]!) runs.push({ first: first[i]!, last: last[i]! });
  return runs;
}
