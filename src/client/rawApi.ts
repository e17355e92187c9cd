/**
 * The raw KV API over a `SendToKey`: gets, puts and deletes go to the store serving the key; a scan
 * pages through the range, region by region, each store answering only for its own range.
 */
import { Effect } from "effect"
import { cfOf, rangeEnd, toBytes } from "./bytes.js"
import { scanRange } from "./scanPages.js"
import { contextField, type SendToKey } from "./send.js"
import type { KvPair, RawApi } from "./types.js"

export const makeRawApi = (send: SendToKey): RawApi => ({
  rawGet: (key, o) => {
    const k = toBytes(key)
    return send(k, "RawGet", (rpc, context) => rpc.RawGet({ ...contextField(context), key: k, cf: cfOf(o) })).pipe(
      Effect.map((r) => (r.notFound ? undefined : (r.value ?? new Uint8Array())))
    )
  },
  rawPut: (key, value, o) => {
    const k = toBytes(key)
    const v = toBytes(value)
    return send(k, "RawPut", (rpc, context) => rpc.RawPut({ ...contextField(context), key: k, value: v, cf: cfOf(o) }))
  },
  rawDelete: (key, o) => {
    const k = toBytes(key)
    return send(k, "RawDelete", (rpc, context) => rpc.RawDelete({ ...contextField(context), key: k, cf: cfOf(o) }))
  },
  rawScan: (start, o) => {
    const end = rangeEnd(o?.end)
    return scanRange(
      send,
      "RawScan",
      { start: toBytes(start), end, limit: o?.limit ?? 100 },
      (from, limit) => (rpc, context) =>
        rpc.RawScan({
          ...contextField(context),
          startKey: from,
          limit,
          cf: cfOf(o),
          ...(end === undefined ? {} : { endKey: end })
        })
    ).pipe(Effect.map((pairs) => pairs.map((p): KvPair => ({ key: p.key, value: p.value }))))
  }
})
