/**
 * The key ranges of a store's initialized live peers, sorted by start key (TiKV's `region_ranges`): which
 * peer, if any, a range overlaps, in O(log n).
 *
 * The overlap checks ran over every peer of the store. At 10,000 regions that is 10,000 key comparisons
 * per message, and while a store is behind on applying a wave of splits, every heartbeat of a new region
 * it has no peer for yet takes that path (docs/PERFORMANCE.md, "A store that fell behind on splits").
 *
 * Initialized live regions of one store never overlap: a split cuts a region in two, and a snapshot whose
 * range overlaps another peer's is refused (`peerHandlers.ts`, with this index). So among the regions that
 * start before a range ends, only the last can reach into it.
 */
import { compareBytes } from "../protocol/bytes.js"
import { type KeyRange, rangesOverlap, sameRange } from "./regionUtil.js"

interface Entry<A> {
  readonly range: KeyRange
  readonly owner: A
}

export class RegionRanges<A> {
  /** Sorted by start key; disjoint. */
  private readonly sorted: Array<Entry<A>> = []
  private readonly byOwner = new Map<A, Entry<A>>()

  get size(): number {
    return this.sorted.length
  }

  /** Records (or moves) `owner` at `range`; `undefined` forgets it (an uninitialized region has no range). */
  set(owner: A, range: KeyRange | undefined): void {
    const old = this.byOwner.get(owner)
    if (old !== undefined) {
      if (range !== undefined && sameRange(old.range, range)) return
      this.sorted.splice(this.indexOf(old), 1)
      this.byOwner.delete(owner)
    }
    if (range === undefined) return
    const entry = { range, owner }
    this.sorted.splice(this.firstStartingAtOrAfter(range.startKey), 0, entry)
    this.byOwner.set(owner, entry)
  }

  delete(owner: A): void {
    this.set(owner, undefined)
  }

  /** The owner whose range overlaps `range`, other than `except`; `undefined` if none does. */
  overlapping(range: KeyRange, except?: A): A | undefined {
    // the regions that start before `range` ends: all of them when it is unbounded
    const before = range.endKey.length === 0 ? this.sorted.length : this.firstStartingAtOrAfter(range.endKey)
    for (let i = before - 1; i >= 0; i--) {
      const e = this.sorted[i]!
      if (e.owner === except) continue
      return rangesOverlap(e.range, range) ? e.owner : undefined
    }
    return undefined
  }

  /** Every recorded owner with its range, in key order (tests). */
  entries(): ReadonlyArray<readonly [A, KeyRange]> {
    return this.sorted.map((e) => [e.owner, e.range] as const)
  }

  private indexOf(entry: Entry<A>): number {
    const i = this.firstStartingAtOrAfter(entry.range.startKey)
    if (this.sorted[i] === entry) return i
    // not where its start key says: only if two recorded ranges shared a start key (an overlap)
    return this.sorted.indexOf(entry)
  }

  /** Index of the first entry whose start key is >= `key` (binary search). */
  private firstStartingAtOrAfter(key: Uint8Array): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareBytes(this.sorted[mid]!.range.startKey, key) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
