/**
 * Raw and transactional data live in separate key spaces (`protocol/keyspace.ts`): on a standalone store,
 * whatever column family a raw request names, it neither sees nor damages a transaction's records.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { layerKvMemory } from "../../src/layers/kvStorageStandalone.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { timestamp } from "../../src/protocol/ids.js"
import { makeRawHandlers } from "../../src/server/rawHandlers.js"
import { makeTxnHandlers } from "../../src/transaction/handlers.js"
import { encodeKey } from "../../src/transaction/mvccKey.js"

const handlers = Effect.all({ raw: makeRawHandlers, txn: makeTxnHandlers })
type Txn = Effect.Effect.Success<typeof handlers>["txn"]

const commit = (txn: Txn, key: string, value: string, startTs: number) =>
  Effect.gen(function* () {
    const pw = yield* txn.KvPrewrite({
      mutations: [{ op: "Put", key: utf8(key), value: utf8(value) }],
      primaryLock: utf8(key),
      startVersion: timestamp(startTs),
      lockTtl: 3000
    })
    assert.deepStrictEqual(pw.errors, [])
    const c = yield* txn.KvCommit({
      startVersion: timestamp(startTs),
      keys: [utf8(key)],
      commitVersion: timestamp(startTs + 1)
    })
    assert.isUndefined(c.error)
  })

const read = (txn: Txn, key: string, version: number) =>
  Effect.map(txn.KvGet({ key: utf8(key), version: timestamp(version) }), (r) => ({
    error: r.error,
    value: r.value === undefined ? undefined : fromUtf8(r.value)
  }))

describe("raw and transactional key spaces (standalone)", () => {
  it.effect("a raw scan after a transaction's commit shows only raw data, in every column family", () =>
    Effect.gen(function* () {
      const { raw, txn } = yield* handlers
      yield* commit(txn, "a", "txn", 10)
      yield* raw.RawPut({ key: utf8("b"), value: utf8("raw"), cf: "default" })
      for (const cf of ["default", "lock", "write"]) {
        const pairs = yield* raw.RawScan({ startKey: new Uint8Array([0]), limit: 100, cf })
        assert.deepStrictEqual(
          pairs.map((p) => `${fromUtf8(p.key)}=${fromUtf8(p.value)}`),
          cf === "default" ? ["b=raw"] : [],
          `raw scan of ${cf}`
        )
      }
      assert.isTrue((yield* raw.RawGet({ key: utf8("a"), cf: "default" })).notFound)
      // and the transactional side sees no raw data
      const scan = yield* txn.KvScan({ startKey: new Uint8Array([0]), limit: 100, version: timestamp(20) })
      assert.deepStrictEqual(
        scan.pairs.map((p) => fromUtf8(p.key)),
        ["a"]
      )
    }).pipe(Effect.provide(layerKvMemory))
  )

  it.effect("a raw put to the lock or write CF cannot affect a transaction's read or commit", () =>
    Effect.gen(function* () {
      const { raw, txn } = yield* handlers
      yield* commit(txn, "a", "1", 10)
      // what would be a foreign lock and a newer write record, were raw and transactional keys one space
      yield* raw.RawPut({ key: utf8("a"), value: utf8("not a lock"), cf: "lock" })
      yield* raw.RawPut({ key: encodeKey(utf8("a"), 15n), value: utf8("not a write"), cf: "write" })
      assert.deepStrictEqual(yield* read(txn, "a", 20), { error: undefined, value: "1" })
      yield* commit(txn, "a", "2", 30)
      assert.deepStrictEqual(yield* read(txn, "a", 40), { error: undefined, value: "2" })
      // and deleting the raw records does not touch the transaction's
      yield* raw.RawDelete({ key: utf8("a"), cf: "lock" })
      yield* raw.RawDelete({ key: encodeKey(utf8("a"), 31n), cf: "write" })
      assert.deepStrictEqual(yield* read(txn, "a", 40), { error: undefined, value: "2" })
      assert.strictEqual(fromUtf8((yield* raw.RawGet({ key: utf8("a"), cf: "lock" })).value ?? utf8("?")), "?")
    }).pipe(Effect.provide(layerKvMemory))
  )
})
