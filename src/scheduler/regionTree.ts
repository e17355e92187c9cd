/**
 * The scheduler's region map: regions ordered by start key, never overlapping (TinyKV
 * `core.RegionsInfo`'s range tree). Inserting a region removes every region whose range it overlaps
 * (and the region's own older entry), which is how splits and merges reported out of order settle:
 * the newest report of a key range wins, and staleness is checked by the caller before inserting.
 *
 * A sorted array with binary search: lookups are O(log n); an insert that changes ranges shifts the
 * array, which is cheap next to how rarely ranges change (splits and merges), while the common
 * heartbeat (same range) replaces in place.
 */
import { compareBytes } from "../protocol/bytes.js"
import type { RegionId } from "../protocol/ids.js"
import type { RegionInfo } from "./regionInfo.js"

/** `key < end` where an empty end is +∞. */
const beforeEnd = (key: Uint8Array, end: Uint8Array): boolean => end.length === 0 || compareBytes(key, end) < 0

export class RegionTree {
  /** Sorted by start key; consecutive entries never overlap (gaps are allowed). */
  private readonly items: Array<RegionInfo> = []
  private readonly byId = new Map<number, RegionInfo>()

  get size(): number {
    return this.items.length
  }

  /** Every region in key order. */
  all(): ReadonlyArray<RegionInfo> {
    return this.items
  }

  get(id: RegionId): RegionInfo | undefined {
    return this.byId.get(id)
  }

  /** The region containing `key`, if any. */
  search(key: Uint8Array): RegionInfo | undefined {
    const i = this.lastStartingAtOrBefore(key)
    const r = i >= 0 ? this.items[i]! : undefined
    return r !== undefined && beforeEnd(key, r.region.endKey) ? r : undefined
  }

  /** The region right before the one containing `key`, only if the two are adjacent (TinyKV `SearchPrevRegion`). */
  searchPrev(key: Uint8Array): RegionInfo | undefined {
    const i = this.lastStartingAtOrBefore(key)
    const cur = i >= 0 ? this.items[i]! : undefined
    if (cur === undefined || !beforeEnd(key, cur.region.endKey) || i === 0) return undefined
    const prev = this.items[i - 1]!
    return compareBytes(prev.region.endKey, cur.region.startKey) === 0 ? prev : undefined
  }

  /** Regions intersecting `[start, end)` in key order, at most `limit` (≤ 0: all); an empty end is +∞. */
  scan(start: Uint8Array, end: Uint8Array, limit = 0): ReadonlyArray<RegionInfo> {
    const out: Array<RegionInfo> = []
    for (let j = this.firstEndingAfter(start); j < this.items.length; j++) {
      const r = this.items[j]!
      if (!beforeEnd(r.region.startKey, end)) break
      if (limit > 0 && out.length >= limit) break
      out.push(r)
    }
    return out
  }

  /** Regions other than `info`'s own id whose ranges intersect `info`'s range. */
  overlaps(info: RegionInfo): ReadonlyArray<RegionInfo> {
    return this.scan(info.region.startKey, info.region.endKey).filter((r) => r.region.id !== info.region.id)
  }

  /**
   * Inserts or replaces `info`; returns every entry that left the tree: the region's previous entry
   * (if any) and every region its range overlaps, so the caller can update per-store counters.
   */
  put(info: RegionInfo): ReadonlyArray<RegionInfo> {
    const { region } = info
    const origin = this.byId.get(region.id)
    const removed: Array<RegionInfo> = []
    if (origin !== undefined) {
      const i = this.indexOf(origin)
      if (
        compareBytes(origin.region.startKey, region.startKey) === 0 &&
        compareBytes(origin.region.endKey, region.endKey) === 0
      ) {
        this.items[i] = info
        this.byId.set(region.id, info)
        return [origin]
      }
      this.items.splice(i, 1)
      this.byId.delete(region.id)
      removed.push(origin)
    }
    const first = this.firstEndingAfter(region.startKey)
    let last = first
    while (last < this.items.length && beforeEnd(this.items[last]!.region.startKey, region.endKey)) last++
    const overlapped = this.items.splice(first, last - first, info)
    for (const r of overlapped) {
      this.byId.delete(r.region.id)
      removed.push(r)
    }
    this.byId.set(region.id, info)
    return removed
  }

  /** Removes the region with this id; returns its entry. */
  remove(id: RegionId): RegionInfo | undefined {
    const r = this.byId.get(id)
    if (r === undefined) return undefined
    this.items.splice(this.indexOf(r), 1)
    this.byId.delete(id)
    return r
  }

  // --- binary searches (start keys are sorted and ranges disjoint, so end keys are sorted too) ---

  /** Index of the last region whose start key is ≤ `key`, or -1. */
  private lastStartingAtOrBefore(key: Uint8Array): number {
    let lo = 0
    let hi = this.items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareBytes(this.items[mid]!.region.startKey, key) <= 0) lo = mid + 1
      else hi = mid
    }
    return lo - 1
  }

  /** Index of the first region whose range ends after `key` (so it contains `key` or lies beyond it). */
  private firstEndingAfter(key: Uint8Array): number {
    const i = this.lastStartingAtOrBefore(key)
    if (i < 0) return 0
    return beforeEnd(key, this.items[i]!.region.endKey) ? i : i + 1
  }

  private indexOf(info: RegionInfo): number {
    const i = this.lastStartingAtOrBefore(info.region.startKey)
    if (this.items[i] !== info) throw new Error(`region tree out of sync for region ${info.region.id}`)
    return i
  }
}
