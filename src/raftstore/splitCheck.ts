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
import type { EngineReader, KeyValue } from "../services/Storage.js"

/** How to pick a split key. */
export type SplitPolicy =
  /**
   * Split once the region holds more than `maxSize` bytes, into pieces of `splitSize` bytes (TinyKV cuts one piece
   * per check; TiKV's batch split up to `MAX_SPLIT_KEYS`).
   */
  | { readonly _tag: "BySize"; readonly splitSize: number; readonly maxSize: number }
  /** Split in the middle by size, whatever the size (an admin's `tinykv ctl split` without a key). */
  | { readonly _tag: "Half" }

export interface RegionMeasure {
  /** Bytes of keys and values, every column family and key space (only those walked, when not `complete`). */
  readonly size: number
  /** Engine entries (every version and lock counts; only those walked, when not `complete`). */
  readonly keys: number
  /** Where to split, in key order; empty when the region should not (or cannot) be split. */
  readonly splitKeys: ReadonlyArray<Uint8Array>
  /** Whether the whole region was walked: a walk that found all the split keys one check may use stops there. */
  readonly complete: boolean
}

/**
 * The most split keys one check proposes (TiKV's `batch-split-limit`). A region written faster than one
 * piece per check (a sequential load into the last region) would otherwise only ever lose its first piece
 * and grow without bound; and the walk stops once it found them, so measuring a region that grew far past
 * the max size reads only about this many pieces of it, not all of it, under its snapshot.
 */
export const MAX_SPLIT_KEYS = 10

interface Entry {
  readonly userKey: Uint8Array
  readonly size: number
}

/**
 * Every engine entry of the region, in user-key order (versions of one user key are adjacent). Stopping early
 * (`return`, a `break` out of a loop over it) closes every cursor: an lmdb cursor left open holds its read
 * transaction, and LMDB then reuses no page freed after it (the file grows with every write).
 */
export function* regionEntries(reader: EngineReader, region: Region): Generator<Entry> {
  const iterators: Array<Iterator<KeyValue>> = []
  try {
    const cursors = physicalRanges(region).map(({ cf, space, start, end }) => {
      const it = reader.scan(cf, { start, end })
      iterators.push(it)
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
  } finally {
    for (const it of iterators) it.return?.()
  }
}

/** Entries between yields to the other fibers. */
const YIELD_EVERY = 2048

/**
 * Walks the region: its size, and a split key each time the running size of a piece passes `threshold`
 * (the key whose entry passes it; never the first key of a piece, whose left side would hold nothing). Stops
 * early once `maxKeys` keys are found and more than `stopPast` bytes were walked.
 */
const walk = (reader: EngineReader, region: Region, threshold: number | undefined, maxKeys: number, stopPast: number) =>
  Effect.gen(function* () {
    let size = 0
    let keys = 0
    let pieceSize = 0
    let pieceFirst: Uint8Array | undefined
    const splitKeys: Array<Uint8Array> = []
    for (const e of regionEntries(reader, region)) {
      size += e.size
      pieceSize += e.size
      keys++
      pieceFirst ??= e.userKey
      if (threshold !== undefined && pieceSize > threshold && compareBytes(e.userKey, pieceFirst) > 0) {
        splitKeys.push(e.userKey)
        pieceFirst = e.userKey
        pieceSize = e.size
        if (splitKeys.length >= maxKeys && size > stopPast) return { size, keys, splitKeys, complete: false }
      }
      if (keys % YIELD_EVERY === 0) yield* Effect.yieldNow()
    }
    return { size, keys, splitKeys, complete: true }
  })

/** The region's size, and the split keys `policy` asks for (see `RegionMeasure`). */
export const measureRegion = (
  reader: EngineReader,
  region: Region,
  policy: SplitPolicy
): Effect.Effect<RegionMeasure> =>
  Effect.gen(function* () {
    if (policy._tag === "BySize") {
      const m = yield* walk(reader, region, policy.splitSize, MAX_SPLIT_KEYS, policy.maxSize)
      return m.size > policy.maxSize ? m : { ...m, splitKeys: [] }
    }
    const total = yield* walk(reader, region, undefined, 0, Number.POSITIVE_INFINITY)
    if (total.size === 0) return total
    const half = yield* walk(reader, region, Math.floor(total.size / 2), 1, 0)
    return { ...total, splitKeys: half.splitKeys }
  })
