/**
 * The raw KV handlers (TinyKV `RawGet/RawPut/RawDelete/RawScan`, and TiKV's batch and range calls):
 * validation, then `KvStorage` in the raw key space — raw requests never see nor touch transactional
 * data, whatever column family they name.
 */
import { Effect } from "effect"
import { successor } from "../protocol/bytes.js"
import { InvalidArgument, type KvError } from "../protocol/errorpb.js"
import type * as Kv from "../protocol/kvrpc.js"
import { DELETE_RANGE_CHUNK, MAX_BATCH_KEYS, SCAN_BYTE_BUDGET } from "../protocol/limits.js"
import { KvStorage, type Modify } from "../services/KvStorage.js"
import { validCf, validKey, validLimit, validValue } from "./validate.js"

const validBatch = <T>(items: ReadonlyArray<T>): Effect.Effect<ReadonlyArray<T>, InvalidArgument> =>
  items.length > MAX_BATCH_KEYS
    ? Effect.fail(
        new InvalidArgument({ message: `a batch of ${items.length} keys is over the maximum ${MAX_BATCH_KEYS}` })
      )
    : Effect.succeed(items)

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
        const empty = new Uint8Array()
        for (const { key, value } of reader.iterCF(cf, req.startKey, req.endKey)) {
          pairs.push({ key, value: req.keyOnly === true ? empty : value })
          bytes += key.length + value.length
          if (pairs.length >= limit || bytes >= SCAN_BYTE_BUDGET) break
        }
        return pairs
      }).pipe(Effect.scoped),

    RawBatchGet: (req: Kv.RawBatchGetRequest): Effect.Effect<ReadonlyArray<Kv.KvPair>, KvError> =>
      Effect.gen(function* () {
        const cf = yield* validCf(req.cf)
        const keys = yield* validBatch(req.keys)
        for (const key of keys) yield* validKey(key)
        const reader = yield* storage.reader(req.context, "raw")
        const pairs: Array<Kv.KvPair> = []
        for (const key of keys) {
          const value = reader.getCF(cf, key)
          if (value !== undefined) pairs.push({ key, value })
        }
        return pairs
      }).pipe(Effect.scoped),

    RawBatchPut: (req: Kv.RawBatchPutRequest): Effect.Effect<void, KvError> =>
      Effect.gen(function* () {
        const cf = yield* validCf(req.cf)
        const modifies: Array<Modify> = []
        for (const p of yield* validBatch(req.pairs)) {
          modifies.push({ _tag: "Put", cf, key: yield* validKey(p.key), value: yield* validValue(p.value) })
        }
        if (modifies.length > 0) yield* storage.write(req.context, "raw", modifies)
      }),

    RawBatchDelete: (req: Kv.RawBatchDeleteRequest): Effect.Effect<void, KvError> =>
      Effect.gen(function* () {
        const cf = yield* validCf(req.cf)
        const modifies: Array<Modify> = []
        for (const key of yield* validBatch(req.keys)) modifies.push({ _tag: "Delete", cf, key: yield* validKey(key) })
        if (modifies.length > 0) yield* storage.write(req.context, "raw", modifies)
      }),

    // Reads the next chunk of keys, then deletes them in one write: a long range takes several requests
    // (`resumeKey`), so no request holds the store for long nor builds an oversized Raft command.
    RawDeleteRange: (req: Kv.RawDeleteRangeRequest): Effect.Effect<Kv.RawDeleteRangeResponse, KvError> =>
      Effect.gen(function* () {
        const cf = yield* validCf(req.cf)
        const keys = yield* Effect.scoped(
          Effect.map(storage.reader(req.context, "raw"), (reader) => {
            const out: Array<Uint8Array> = []
            for (const { key } of reader.iterCF(cf, req.startKey, req.endKey)) {
              out.push(key)
              if (out.length >= DELETE_RANGE_CHUNK) break
            }
            return out
          })
        )
        if (keys.length > 0) {
          yield* storage.write(
            req.context,
            "raw",
            keys.map((key): Modify => ({ _tag: "Delete", cf, key }))
          )
        }
        const last = keys[keys.length - 1]
        return keys.length >= DELETE_RANGE_CHUNK && last !== undefined
          ? { deleted: keys.length, resumeKey: successor(last) }
          : { deleted: keys.length }
      })
  }
})
