/**
 * Measuring a region and choosing where to split it (TinyKV `split_checker.go`, TiKV's size checker).
 *
 * A region's data is every key of its user-key range in each column family of both key spaces
 * (`protocol/keyspace.ts`). They are walked together in user-key order (a merge of the six engine
 * ranges), so the size counts everything a snapshot of the region would carry, and a split key is always
 * a whole user key: an MVCC key's timestamp is stripped, and since a region holds a user key with every
 * version of it, no split ever falls between two versions of one key.
 *
 * The walk reads an engine snapshot outside the RaftWorker (see `splitCheckRunner.ts`) and yields to
 * other fibers every few thousand keys: measuring a large region must not stall the store.
 */
import { Effect } from "effect"
import { compareBytes } from "../protocol/bytes.js"
import { localKeyOf, physicalRanges, userKeyOf } from "../protocol/keyspace.js"
import type { Region } from "../protocol/metapb.js"
import type { EngineReader } from "../services/Storage.js"

/** How to pick a split key. */
export type SplitPolicy =
  /** Split once the region holds more than `maxSize` bytes, `splitSize` bytes into it (TinyKV). */
  | { readonly _tag: "BySize"; readonly splitSize: number; readonly maxSize: number }
  /** Split in the middle by size, whatever the size (an admin's `tinykv ctl split` without a key). */
  | { readonly _tag: "Half" }

export interface RegionMeasure {
  /** Bytes of keys and values, every column family and key space. */
  readonly size: number
  /** Engine entries (every version and lock counts). */
  readonly keys: number
  /** Where to split, or `undefined` when the region should not (or cannot) be split. */
  readonly splitKey: Uint8Array | undefined
}

interface Entry {
  readonly userKey: Uint8Array
  readonly size: number
}

/** Every engine entry of the region, in user-key order (versions of one user key are adjacent). */
export function* regionEntries(reader: EngineReader, region: Region): Generator<Entry> {
  const cursors = physicalRanges(region).map(({ cf, space, start, end }) => {
    const it = reader.scan(cf, { start, end })
    const next = (): Entry | undefined => {
      const r = it.next()
      if (r.done) return undefined
      const local = localKeyOf(r.value.key)
      return { userKey: userKeyOf(local, space, cf) ?? local, size: r.value.key.length + r.value.value.length }
    }
    return { next, head: next() }
  })
  for (;;) {
    let min: (typeof cursors)[number] | undefined
    for (const c of cursors) {
      if (c.head !== undefined && (min === undefined || compareBytes(c.head.userKey, min.head!.userKey) < 0)) min = c
    }
    if (min === undefined) return
    yield min.head!
    min.head = min.next()
  }
}

/** Entries between yields to the other fibers. */
const YIELD_EVERY = 2048

/**
 * Walks the region once: its size, and the first user key (after the region's first) at which more than
 * `threshold` bytes lie before or at it — or no key when `threshold` is undefined.
 */
const walk = (reader: EngineReader, region: Region, threshold: number | undefined) =>
  Effect.gen(function* () {
    let size = 0
    let keys = 0
    let splitKey: Uint8Array | undefined
    let first: Uint8Array | undefined
    for (const e of regionEntries(reader, region)) {
      size += e.size
      keys++
      first ??= e.userKey
      // the key where the running size first passes the threshold; never the region's first key (the left
      // half would hold nothing), then the next user key is taken
      if (threshold !== undefined && splitKey === undefined && size > threshold && compareBytes(e.userKey, first) > 0) {
        splitKey = e.userKey
      }
      if (keys % YIELD_EVERY === 0) yield* Effect.yieldNow()
    }
    return { size, keys, splitKey }
  })

/** The region's size, and a split key when `policy` says it should be split. */
export const measureRegion = (
  reader: EngineReader,
  region: Region,
  policy: SplitPolicy
): Effect.Effect<RegionMeasure> =>
  Effect.gen(function* () {
    if (policy._tag === "BySize") {
      const m = yield* walk(reader, region, policy.splitSize)
      return m.size > policy.maxSize ? m : { ...m, splitKey: undefined }
    }
    const total = yield* walk(reader, region, undefined)
    if (total.size === 0) return total
    const half = yield* walk(reader, region, Math.floor(total.size / 2))
    return { size: total.size, keys: total.keys, splitKey: half.splitKey }
  })
