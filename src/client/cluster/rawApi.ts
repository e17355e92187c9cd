/**
 * The raw KV API over a `RegionRouter`: gets, puts and deletes go to the region holding the key;
 * a scan walks the regions in key order, each region's store answering only for its own range.
 */
import { Effect } from "effect"
import { utf8 } from "../../protocol/bytes.js"
import type { Bytesish, CfOption, KvPair, TinyKvClient } from "../TinyKvClient.js"
import type { RegionRouter } from "./regionRouter.js"
import { scanRegions } from "./scanRegions.js"

/** The raw members of the `TinyKvClient` service. */
export type RawApi = Pick<TinyKvClient["Type"], "rawGet" | "rawPut" | "rawDelete" | "rawScan">

// NB: TinyKvClient.ts has the same helper; importing it at runtime would make a cycle once it imports us
const bytes = (b: Bytesish): Uint8Array => (typeof b === "string" ? utf8(b) : b)
const cfOf = (o?: CfOption) => o?.cf ?? "default"

export const makeRawApi = (router: RegionRouter): RawApi => ({
  rawGet: (key, o) => {
    const k = bytes(key)
    return router
      .request(k, "RawGet", (rpc, context) => rpc.RawGet({ context, key: k, cf: cfOf(o) }))
      .pipe(Effect.map((r) => (r.notFound ? undefined : (r.value ?? new Uint8Array()))))
  },
  rawPut: (key, value, o) => {
    const k = bytes(key)
    const v = bytes(value)
    return router.request(k, "RawPut", (rpc, context) => rpc.RawPut({ context, key: k, value: v, cf: cfOf(o) }))
  },
  rawDelete: (key, o) => {
    const k = bytes(key)
    return router.request(k, "RawDelete", (rpc, context) => rpc.RawDelete({ context, key: k, cf: cfOf(o) }))
  },
  rawScan: (start, o) => {
    // an empty end, like a region's empty end key, means "to the end of the key space"
    const end = o?.end === undefined || bytes(o.end).length === 0 ? undefined : bytes(o.end)
    return scanRegions(router, {
      method: "RawScan",
      start: bytes(start),
      end,
      limit: o?.limit ?? 100,
      page: (from, limit) => (rpc, context) =>
        rpc.RawScan({ context, startKey: from, limit, cf: cfOf(o), ...(end ? { endKey: end } : {}) })
    }).pipe(Effect.map((pairs) => pairs.map((p): KvPair => ({ key: p.key, value: p.value }))))
  }
})
