/**
 * The split checker (TinyKV `TestSplitCheck`): a region's size over every column family of both key spaces,
 * and split keys that are whole user keys — an MVCC key's timestamp stripped, never the region's first key.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { layerMemory } from "../../src/layers/storageMemory.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import type { RegionId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import type { Region } from "../../src/protocol/metapb.js"
import { MAX_SPLIT_KEYS, measureRegion, type SplitPolicy } from "../../src/raftstore/splitCheck.js"
import { type Cf, Storage, type WriteOp } from "../../src/services/Storage.js"
import { encodeKey } from "../../src/transaction/mvccKey.js"

const region = (start = "", end = ""): Region => ({
  id: 1 as RegionId,
  startKey: utf8(start),
  endKey: utf8(end),
  regionEpoch: { confVer: 1, version: 1 },
  peers: []
})

const put = (cf: Cf, key: Uint8Array, value: Uint8Array): WriteOp => ({ _tag: "Put", space: cf, key, value })
const txnWrite = (user: string, ts: bigint, value = "v") =>
  put("write", physicalKey("txn", encodeKey(utf8(user), ts)), utf8(value))
const raw = (key: string, value: string, cf: Cf = "default") => put(cf, physicalKey("raw", utf8(key)), utf8(value))

const measure = (ops: ReadonlyArray<WriteOp>, policy: SplitPolicy, r = region()) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    yield* storage.write(ops)
    const reader = yield* storage.snapshot
    const m = yield* measureRegion(reader, r, policy)
    return { ...m, splitKeys: m.splitKeys.map(fromUtf8) }
  }).pipe(Effect.scoped, Effect.provide(layerMemory))

const sizeOf = (op: WriteOp) => (op._tag === "Put" ? op.key.length + op.value.length : 0)

describe("split check", () => {
  it.effect("TestSplitCheck: the split key of MVCC keys is their user key, timestamp stripped", () =>
    Effect.gen(function* () {
      const ops = [txnWrite("k1", 1n), txnWrite("k1", 2n), txnWrite("k2", 1n), txnWrite("k2", 2n), txnWrite("k3", 3n)]
      const each = sizeOf(ops[0]!)
      // TinyKV's numbers scaled to our entry size: split after 2.5 entries, max 5 (the region holds 5)
      const m = yield* measure(ops, { _tag: "BySize", splitSize: Math.floor(each * 2.5), maxSize: 5 * each - 1 })
      assert.strictEqual(m.size, 5 * each)
      assert.strictEqual(m.keys, 5)
      // k1's two versions, then k2's two: each piece passes 2.5 entries at the next user key
      assert.deepStrictEqual(m.splitKeys, ["k2", "k3"])
    })
  )

  it.effect("no split while the region is at most the max size", () =>
    Effect.gen(function* () {
      const ops = [raw("a", "1"), raw("b", "2"), raw("c", "3")]
      const total = ops.reduce((n, op) => n + sizeOf(op), 0)
      const m = yield* measure(ops, { _tag: "BySize", splitSize: 1, maxSize: total })
      assert.strictEqual(m.size, total)
      assert.deepStrictEqual(m.splitKeys, [])
    })
  )

  it.effect("raw and transactional data are walked together in user-key order, every column family", () =>
    Effect.gen(function* () {
      // a, b raw; c transactional (a lock and a write); d raw in the lock CF
      const ops = [raw("a", "x".repeat(10)), raw("b", "x".repeat(10)), txnWrite("c", 5n), raw("d", "x", "lock")]
      const lock = put("lock", physicalKey("txn", utf8("c")), utf8("lock"))
      const all = [...ops, lock]
      const total = all.reduce((n, op) => n + sizeOf(op), 0)
      // past both raw keys a and b: the split is at c, where the transactional entries start
      const before = sizeOf(ops[0]!) + sizeOf(ops[1]!)
      const m = yield* measure(all, { _tag: "BySize", splitSize: before, maxSize: 0 })
      assert.strictEqual(m.size, total)
      assert.strictEqual(m.keys, 5)
      // and c's two entries and d's pass it again: the next piece starts at d
      assert.deepStrictEqual(m.splitKeys, ["c", "d"])
    })
  )

  it.effect("a region whose first key alone passes the split size splits at its second key", () =>
    Effect.gen(function* () {
      const ops = [raw("a", "x".repeat(100)), raw("b", "1"), raw("c", "2")]
      const m = yield* measure(ops, { _tag: "BySize", splitSize: 10, maxSize: 0 })
      assert.deepStrictEqual(m.splitKeys, ["b"])
    })
  )

  it.effect("one user key with many versions is never split", () =>
    Effect.gen(function* () {
      const ops = Array.from({ length: 20 }, (_, i) => txnWrite("only", BigInt(i + 1)))
      const m = yield* measure(ops, { _tag: "BySize", splitSize: 1, maxSize: 0 })
      assert.strictEqual(m.keys, 20)
      assert.deepStrictEqual(m.splitKeys, [])
    })
  )

  it.effect("only the region's own range counts", () =>
    Effect.gen(function* () {
      const ops = [raw("a", "1"), raw("m", "2"), raw("n", "3"), raw("z", "4")]
      const m = yield* measure(ops, { _tag: "Half" }, region("m", "z"))
      assert.strictEqual(m.keys, 2)
      assert.deepStrictEqual(m.splitKeys, ["n"])
    })
  )

  it.effect("the Half policy splits in the middle by size", () =>
    Effect.gen(function* () {
      const ops = ["a", "b", "c", "d", "e", "f"].map((k) => raw(k, "x".repeat(10)))
      const m = yield* measure(ops, { _tag: "Half" })
      assert.deepStrictEqual(m.splitKeys, ["d"])
      assert.isTrue(m.complete)
      assert.strictEqual(m.keys, 6)
    })
  )

  it.effect("a region past the max size is cut into pieces of the split size, all in one check", () =>
    Effect.gen(function* () {
      // 20 keys of equal size, pieces of 5: split at the 6th, 11th and 16th keys
      const ops = Array.from({ length: 20 }, (_, i) => raw(`k${String(i).padStart(2, "0")}`, "x".repeat(10)))
      const each = sizeOf(ops[0]!)
      const m = yield* measure(ops, { _tag: "BySize", splitSize: 5 * each, maxSize: 15 * each })
      assert.deepStrictEqual(m.splitKeys, ["k05", "k10", "k15"])
      assert.isTrue(m.complete)
      assert.strictEqual(m.size, 20 * each)
    })
  )

  it.effect("a region far past the max size: the walk stops at the most keys one check proposes", () =>
    Effect.gen(function* () {
      const ops = Array.from({ length: 1000 }, (_, i) => raw(`k${String(i).padStart(4, "0")}`, "x".repeat(10)))
      const each = sizeOf(ops[0]!)
      const m = yield* measure(ops, { _tag: "BySize", splitSize: 4 * each, maxSize: 6 * each })
      assert.strictEqual(m.splitKeys.length, MAX_SPLIT_KEYS)
      assert.deepStrictEqual(
        m.splitKeys,
        Array.from({ length: MAX_SPLIT_KEYS }, (_, i) => `k${String(4 * (i + 1)).padStart(4, "0")}`)
      )
      // it read the pieces it cut, not the other 960 keys
      assert.isFalse(m.complete)
      assert.strictEqual(m.keys, 4 * MAX_SPLIT_KEYS + 1)
    })
  )
})
