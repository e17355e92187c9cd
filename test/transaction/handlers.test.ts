/** The handler shell: validation, error mapping, latching under concurrency, lock-aware scans. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { NotLeader } from "../../src/protocol/errorpb.js"
import { regionId, timestamp } from "../../src/protocol/ids.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { CF_DEFAULT as D, CF_LOCK as L, CF_WRITE as W } from "../../src/services/Storage.js"
import { makeTxnHandlers } from "../../src/transaction/handlers.js"
import { bytes, getRequest, makeBuilder, mutation, ok } from "./harness.js"

const failureTag = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
  Effect.map(Effect.flip(effect), (e) => e._tag)

describe("validation", () => {
  it.effect("bad requests fail with InvalidArgument and write nothing", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const h = b.handlers
      assert.strictEqual(yield* failureTag(h.KvGet(getRequest([], 10))), "InvalidArgument")
      assert.strictEqual(
        yield* failureTag(h.KvScan({ startKey: bytes([]), limit: 1_000_000, version: timestamp(10) })),
        "InvalidArgument"
      )
      assert.strictEqual(
        yield* failureTag(h.KvPrewrite(b.prewriteRequest(mutation(3, [1], "Lock")))),
        "InvalidArgument"
      )
      assert.strictEqual(
        yield* failureTag(h.KvPrewrite({ ...b.prewriteRequest(mutation(3, [1], "Put")), primaryLock: bytes([]) })),
        "InvalidArgument"
      )
      assert.strictEqual(
        yield* failureTag(
          h.KvCommit({ startVersion: timestamp(10), keys: [bytes([1])], commitVersion: timestamp(10) })
        ),
        "InvalidArgument"
      )
      assert.strictEqual(
        yield* failureTag(h.KvBatchRollback({ startVersion: timestamp(10), keys: [bytes([])] })),
        "InvalidArgument"
      )
      assert.strictEqual(
        yield* failureTag(h.KvResolveLock({ startVersion: timestamp(10), commitVersion: timestamp(5) })),
        "InvalidArgument"
      )
      b.expectLens(0, 0, 0)
      // an empty scan start key is valid: it means the first key
      const all = yield* ok(h.KvScan({ startKey: bytes([]), limit: 10, version: timestamp(10) }))
      assert.deepStrictEqual(all.pairs, [])
    })
  )

  it.effect("a corrupt record is a StorageError, not a crash", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init([{ cf: L, key: [9], value: [1, 2, 3] }])
      assert.strictEqual(yield* failureTag(b.handlers.KvGet(getRequest([9], 10))), "StorageError")
      b.init([{ cf: W, key: [8], ts: 5, value: [1, 0, 0, 0, 0, 0, 0, 0, 4] }]) // committed, value missing
      assert.strictEqual(yield* failureTag(b.handlers.KvGet(getRequest([8], 10))), "StorageError")
    })
  )

  it.effect("region errors from the reader travel in the error channel", () =>
    Effect.gen(function* () {
      const notLeader = new NotLeader({ regionId: regionId(7) })
      const storage = Layer.succeed(
        KvStorage,
        KvStorage.of({ write: () => Effect.fail(notLeader), reader: () => Effect.fail(notLeader) })
      )
      const h = yield* Effect.provide(makeTxnHandlers, storage)
      const e = yield* Effect.flip(h.KvGet(getRequest([1], 10)))
      assert.deepStrictEqual(e, notLeader)
      assert.strictEqual(
        yield* failureTag(
          h.KvPrewrite({
            mutations: [mutation(1, [1], "Put")],
            primaryLock: bytes([1]),
            startVersion: timestamp(5),
            lockTtl: 10
          })
        ),
        "NotLeader"
      )
    })
  )
})

describe("concurrency", () => {
  it.effect("concurrent prewrites of one key from different transactions: exactly one wins", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const reqs = Array.from({ length: 20 }, (_, i) => ({
        mutations: [mutation(3, [i], "Put"), mutation(4, [i], "Put")],
        primaryLock: bytes([3]),
        startVersion: timestamp(100 + i),
        lockTtl: 1000
      }))
      const resps = yield* Effect.forEach(reqs, (r) => ok(b.handlers.KvPrewrite(r)), { concurrency: "unbounded" })
      assert.strictEqual(resps.filter((r) => r.errors.length === 0).length, 1)
      for (const r of resps) if (r.errors.length > 0) assert.isDefined(r.errors[0]!.locked)
      b.expectLens(2, 2, 0)
    })
  )
})

describe("scan and locks", () => {
  it.effect("a locked key with no committed version is still reported to an older-or-equal reader", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init([
        { cf: D, key: [1], ts: 10, value: [11] },
        { cf: W, key: [1], ts: 12, value: [1, 0, 0, 0, 0, 0, 0, 0, 10] },
        // [2]: first write ever, prewritten at 20 and not yet committed
        { cf: D, key: [2], ts: 20, value: [22] },
        { cf: L, key: [2], value: [2, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 100] },
        // [3]: committed, and locked by a transaction that started after the reader
        { cf: D, key: [3], ts: 10, value: [33] },
        { cf: W, key: [3], ts: 12, value: [1, 0, 0, 0, 0, 0, 0, 0, 10] },
        { cf: L, key: [3], value: [3, 1, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 100] }
      ])
      const resp = yield* ok(b.handlers.KvScan({ startKey: bytes([0]), limit: 10, version: timestamp(30) }))
      assert.deepStrictEqual(
        resp.pairs.map((p): Array<unknown> => [p.key[0], p.error?.locked?.lockVersion ?? p.value[0]]),
        [
          [1, 11],
          [2, 20n],
          [3, 33]
        ]
      )
      // the limit counts locked pairs too
      const two = yield* ok(b.handlers.KvScan({ startKey: bytes([0]), limit: 2, version: timestamp(30) }))
      assert.strictEqual(two.pairs.length, 2)
      // before the lock's transaction started, [2] does not exist yet
      const early = yield* ok(b.handlers.KvScan({ startKey: bytes([0]), limit: 10, version: timestamp(15) }))
      assert.deepStrictEqual(
        early.pairs.map((p) => p.key[0]),
        [1, 3]
      )
    })
  )

  it.effect("a live lock is reported by check-txn-status with its TTL, and prewrite overwrites its own lock", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const pw = { ...b.prewriteRequest(mutation(1, [5], "Put")), lockTtl: 50 }
      assert.deepStrictEqual((yield* ok(b.handlers.KvPrewrite(pw))).errors, [])
      // the same prewrite again (a retry) is accepted
      assert.deepStrictEqual((yield* ok(b.handlers.KvPrewrite(pw))).errors, [])
      const status = yield* ok(
        b.handlers.KvCheckTxnStatus({ primaryKey: bytes([1]), lockTs: pw.startVersion, currentTs: pw.startVersion })
      )
      assert.deepStrictEqual(status, { lockTtl: 50, commitVersion: timestamp(0), action: "NoAction" })
      b.expectLens(1, 1, 0)
    })
  )
})
