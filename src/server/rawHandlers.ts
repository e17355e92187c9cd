/**
 * The raw KV handlers (TinyKV `RawGet/RawPut/RawDelete/RawScan`): validation, then `KvStorage` in the raw
 * key space — raw requests never see nor touch transactional data, whatever column family they name.
 */
import { Effect } from "effect"
import type { KvError } from "../protocol/errorpb.js"
import type * as Kv from "../protocol/kvrpc.js"
import { SCAN_BYTE_BUDGET } from "../protocol/limits.js"
import { KvStorage } from "../services/KvStorage.js"
import { validCf, validKey, validLimit, validValue } from "./validate.js"

export const makeRawHandlers = Effect.gen(function* () {
  const storage = yield* KvStorage
  return {
    RawGet: (req: Kv.RawGetRequest): Effect.Effect<Kv.RawGetResponse, KvError> =>
      Effect.gen(function* () {
        const cf = yield* validCf(req.cf)
        const key = yield* validKey(req.key)
        const reader = yield* storage.reader(req.context, "raw")
        const value = reader.getCF(cf, key)
        return value === undefined ? { notFound: true } : { value, notFound: false }
      }).pipe(Effect.scoped),

    RawPut: (req: Kv.RawPutRequest): Effect.Effect<void, KvError> =>
      Effect.gen(function* () {
        const cf = yield* validCf(req.cf)
        const key = yield* validKey(req.key)
        const value = yield* validValue(req.value)
        yield* storage.write(req.context, "raw", [{ _tag: "Put", cf, key, value }])
      }),

    RawDelete: (req: Kv.RawDeleteRequest): Effect.Effect<void, KvError> =>
      Effect.gen(function* () {
        const cf = yield* validCf(req.cf)
        const key = yield* validKey(req.key)
        yield* storage.write(req.context, "raw", [{ _tag: "Delete", cf, key }])
      }),

    RawScan: (req: Kv.RawScanRequest): Effect.Effect<ReadonlyArray<Kv.KvPair>, KvError> =>
      Effect.gen(function* () {
        const cf = yield* validCf(req.cf)
        const limit = yield* validLimit(req.limit)
        const reader = yield* storage.reader(req.context, "raw")
        const pairs: Array<Kv.KvPair> = []
        let bytes = 0
        if (limit === 0) return pairs
        for (const { key, value } of reader.iterCF(cf, req.startKey, req.endKey)) {
          pairs.push({ key, value })
          bytes += key.length + value.length
          if (pairs.length >= limit || bytes >= SCAN_BYTE_BUDGET) break
        }
        return pairs
      }).pipe(Effect.scoped)
  }
})
