/**
 * Paging through a key range: a store answers at most one page per request (cut by count, by bytes,
 * and at its region's end), so a scan asks page after page until `limit` items, the scan's `end`,
 * or the end of the key space.
 */
import { Effect } from "effect"
import { compareBytes } from "../protocol/bytes.js"
import { MAX_SCAN_LIMIT, SCAN_BYTE_BUDGET } from "../protocol/limits.js"
import { successor } from "./bytes.js"
import type { ClientError } from "./errors.js"
import type { KeyCall, SendToKey } from "./send.js"

export interface Page<P> {
  readonly items: ReadonlyArray<P>
  /** Where the next page starts; `undefined` when the range is exhausted. */
  readonly next: Uint8Array | undefined
}

export interface PageRange {
  readonly start: Uint8Array
  /** Exclusive; `undefined`: to the end of the key space. */
  readonly end: Uint8Array | undefined
  /** At most this many items in all. */
  readonly limit: number
}

/** Asks `page(from, want)` (want ≤ `MAX_SCAN_LIMIT`) from `start` on until `limit` items or the range ends. */
export const scanPages = <P, E, R>(
  range: PageRange,
  page: (from: Uint8Array, want: number) => Effect.Effect<Page<P>, E, R>
): Effect.Effect<Array<P>, E, R> =>
  Effect.gen(function* () {
    const { end, limit } = range
    const out: Array<P> = []
    let from: Uint8Array | undefined = range.start
    while (from !== undefined && out.length < limit && (end === undefined || compareBytes(from, end) < 0)) {
      const { items, next }: Page<P> = yield* page(from, Math.min(limit - out.length, MAX_SCAN_LIMIT))
      out.push(...items)
      from = next
    }
    return out
  })

/**
 * Where a raw scan goes on after a page of `pairs` asked for `want`, from a store serving up to
 * `regionEnd` (empty: the end of the key space). A full page, or one the store cut at its byte
 * budget, may have more behind it in the region; a shorter one means the region ended (a store
 * never reads past its region).
 */
export const nextAfterPage = (
  pairs: ReadonlyArray<{ readonly key: Uint8Array; readonly value: Uint8Array }>,
  want: number,
  regionEnd: Uint8Array
): Uint8Array | undefined => {
  const last = pairs[pairs.length - 1]
  if (last !== undefined) {
    let bytes = 0
    for (const p of pairs) bytes += p.key.length + p.value.length
    if (pairs.length >= want || bytes >= SCAN_BYTE_BUDGET) return successor(last.key)
  }
  return regionEnd.length === 0 ? undefined : regionEnd
}

/**
 * A scan of `range` through `send`: page after page, each to the store serving its first key, moving
 * to the next region at each region's end. Each page is one operation with its own deadline: a long
 * scan over many regions may take a while.
 */
export const scanRange = <P extends { readonly key: Uint8Array; readonly value: Uint8Array }>(
  send: SendToKey,
  method: string,
  range: PageRange,
  page: (from: Uint8Array, want: number) => KeyCall<ReadonlyArray<P>>
): Effect.Effect<Array<P>, ClientError> =>
  scanPages(range, (from, want) => {
    const call = page(from, want)
    return send(from, method, (rpc, context, regionEnd) =>
      Effect.map(call(rpc, context, regionEnd), (items) => ({ items, next: nextAfterPage(items, want, regionEnd) }))
    )
  })
