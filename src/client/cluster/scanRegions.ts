/**
 * A scan across regions: a store answers only for its own region, and at most one page (by count
 * and by bytes) per request, so a scan asks page after page, moving to the next region at each
 * region's end key, until `limit` pairs, the scan's `end`, or the end of the key space.
 */
import { Effect } from "effect"
import { compareBytes } from "../../protocol/bytes.js"
import { MAX_SCAN_LIMIT, SCAN_BYTE_BUDGET } from "../../protocol/limits.js"
import type { ClientError } from "../TinyKvClient.js"
import type { RegionCall, RegionRouter } from "./regionRouter.js"

/** The smallest key after `key`. */
export const successor = (key: Uint8Array): Uint8Array => {
  const next = new Uint8Array(key.length + 1)
  next.set(key)
  return next
}

export interface ScanSpec<P> {
  readonly method: string
  readonly start: Uint8Array
  /** Exclusive; `undefined`: to the end of the key space. */
  readonly end: Uint8Array | undefined
  readonly limit: number
  /** One page: at most `limit` pairs from `from` within the region. */
  readonly page: (from: Uint8Array, limit: number) => RegionCall<ReadonlyArray<P>>
}

export const scanRegions = <P extends { readonly key: Uint8Array; readonly value: Uint8Array }>(
  router: RegionRouter,
  spec: ScanSpec<P>
): Effect.Effect<Array<P>, ClientError> =>
  Effect.gen(function* () {
    const { end, limit } = spec
    const out: Array<P> = []
    let from = spec.start
    // each page is one operation with its own deadline: a long scan over many regions may take a while
    while (out.length < limit && (end === undefined || compareBytes(from, end) < 0)) {
      const want = Math.min(limit - out.length, MAX_SCAN_LIMIT)
      const call = spec.page(from, want)
      const page = yield* router.request(from, spec.method, (rpc, context, region) =>
        Effect.map(call(rpc, context, region), (pairs) => ({ pairs, region }))
      )
      let size = 0
      for (const p of page.pairs) {
        out.push(p)
        size += p.key.length + p.value.length
      }
      const last = page.pairs[page.pairs.length - 1]
      // A full page, or one cut at the server's byte budget, may have more behind it in this region;
      // a shorter one means the region ended (a store never reads past its region).
      if (last !== undefined && (page.pairs.length >= want || size >= SCAN_BYTE_BUDGET)) {
        from = successor(last.key)
        continue
      }
      if (page.region.endKey.length === 0) break
      from = page.region.endKey
    }
    return out
  })
