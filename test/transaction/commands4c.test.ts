/** TinyKV project 4C: rollback, check-txn-status, resolve-lock and scan (`kv/transaction/commands4c_test.go`). */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { timestamp } from "../../src/protocol/ids.js"
import { CF_DEFAULT as D, CF_LOCK as L, CF_WRITE as W } from "../../src/services/Storage.js"
import { be64, type Builder, bytes, type KvSpec, makeBuilder, ok, resolveRequest } from "./harness.js"

const lockOf = (ts: number) => [1, 1, 0, 0, 0, 0, 0, 0, 0, ts, 0, 0, 0, 0, 0, 0, 0, 0]

describe("KvBatchRollback", () => {
  it.effect("TestEmptyRollback4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const resp = yield* ok(b.handlers.KvBatchRollback(b.rollbackRequest()))
      assert.isUndefined(resp.error)
      b.expectLens(0, 0, 0)
    })
  )

  it.effect("TestRollback4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.rollbackRequest([3])
      b.init([
        { cf: D, key: [3], value: [42] },
        { cf: L, key: [3], value: lockOf(b.ts()) }
      ])
      const resp = yield* ok(b.handlers.KvBatchRollback(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(0, 0, 1)
      b.expect([{ cf: W, key: [3], value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] }])
    })
  )

  it.effect("TestRollbackDuplicateKeys4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.rollbackRequest([3], [15], [3])
      b.init([
        { cf: D, key: [3], value: [42] },
        { cf: L, key: [3], value: lockOf(b.ts()) },
        { cf: D, key: [15], value: [0] },
        { cf: L, key: [15], value: lockOf(b.ts()) }
      ])
      const resp = yield* ok(b.handlers.KvBatchRollback(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(0, 0, 2)
      b.expect([
        { cf: W, key: [3], value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] },
        { cf: W, key: [15], value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] }
      ])
    })
  )

  it.effect("TestRollbackMissingPrewrite4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const resp = yield* ok(b.handlers.KvBatchRollback(b.rollbackRequest([3])))
      assert.isUndefined(resp.error)
      b.expectLens(0, 0, 1)
      b.expect([{ cf: W, key: [3], value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] }])
    })
  )

  it.effect("TestRollbackCommitted4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.rollbackRequest([3])
      b.init([
        { cf: D, key: [3], value: [42] },
        { cf: W, key: [3], ts: 110, value: [1, 0, 0, 0, 0, 0, 0, 0, b.ts()] }
      ])
      const resp = yield* ok(b.handlers.KvBatchRollback(cmd))
      assert.isDefined(resp.error?.abort)
      b.expectLens(1, 0, 1)
      b.expect([
        { cf: D, key: [3] },
        { cf: W, key: [3], ts: 110 }
      ])
    })
  )

  it.effect("TestRollbackDuplicate4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.rollbackRequest([3])
      b.init([{ cf: W, key: [3], ts: 100, value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] }])
      const resp = yield* ok(b.handlers.KvBatchRollback(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(0, 0, 1)
      b.expect([{ cf: W, key: [3], ts: 100 }])
    })
  )

  it.effect("TestRollbackOtherTxn4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.rollbackRequest([3])
      b.init([
        { cf: D, key: [3], ts: 80, value: [42] },
        { cf: L, key: [3], value: lockOf(80) }
      ])
      const resp = yield* ok(b.handlers.KvBatchRollback(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(1, 1, 1)
      b.expect([
        { cf: D, key: [3], ts: 80 },
        { cf: L, key: [3] },
        { cf: W, key: [3], ts: 100, value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] }
      ])
    })
  )
})

describe("a lock written after its own transaction's rollback", () => {
  // a prewrite decided before the rollback and written after it: the lock and the rollback record of one
  // transaction on one key (the simulator's seed 40186 with --raft-log ended so)
  const lockedUnderRollback = (b: Builder): ReadonlyArray<KvSpec> => [
    { cf: D, key: [3], value: [42] },
    { cf: L, key: [3], value: lockOf(b.ts()) },
    { cf: W, key: [3], value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] }
  ]

  it.effect("a rollback clears the lock, and keeps its record", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.rollbackRequest([3])
      b.init(lockedUnderRollback(b))
      const resp = yield* ok(b.handlers.KvBatchRollback(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(0, 0, 1)
      b.expect([{ cf: W, key: [3], value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] }])
    })
  )

  it.effect("a commit is refused: the rollback decided the transaction", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3])
      b.init(lockedUnderRollback(b))
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.match(resp.error?.abort ?? "", /rolled back/)
      b.expectLens(1, 1, 1)
    })
  )
})

describe("KvCheckTxnStatus", () => {
  it.effect("TestCheckTxnStatusTtlExpired4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.checkTxnStatusRequest([3])
      b.init([
        { cf: D, key: [3], ts: cmd.lockTs, value: [42] },
        { cf: L, key: [3], value: [3, 1, 0, 0, 5, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 8] }
      ])
      const resp = yield* ok(b.handlers.KvCheckTxnStatus(cmd))
      assert.strictEqual(resp.action, "TTLExpireRollback")
      b.expectLens(0, 0, 1)
      b.expect([{ cf: W, key: [3], ts: cmd.lockTs, value: [3, 0, 0, 5, 0, 0, 0, 0, b.ts()] }])
    })
  )

  it.effect("TestCheckTxnStatusTtlNotExpired4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.checkTxnStatusRequest([3])
      b.init([
        { cf: D, key: [3], ts: cmd.lockTs, value: [42] },
        { cf: L, key: [3], value: [3, 1, 0, 0, 5, 0, 0, 0, 0, b.ts(), 0, 0, 0, 1, 0, 0, 0, 8] }
      ])
      const resp = yield* ok(b.handlers.KvCheckTxnStatus(cmd))
      assert.strictEqual(resp.action, "NoAction")
      assert.strictEqual(resp.lockTtl, 2 ** 32 + 8)
      b.expectLens(1, 1, 0)
      b.expect([
        { cf: D, key: [3], ts: cmd.lockTs },
        { cf: L, key: [3] }
      ])
    })
  )

  it.effect("TestCheckTxnStatusRolledBack4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.checkTxnStatusRequest([3])
      b.init([
        { cf: D, key: [3], ts: cmd.lockTs, value: [42] },
        { cf: W, key: [3], ts: cmd.lockTs, value: [3, 0, 0, 5, 0, 0, 0, 0, b.ts()] },
        { cf: L, key: [3], value: [3, 1, 0, 0, 8, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 8] }
      ])
      const resp = yield* ok(b.handlers.KvCheckTxnStatus(cmd))
      assert.strictEqual(resp.action, "NoAction")
      assert.strictEqual(resp.commitVersion, 0n)
      b.expectLens(1, 1, 1)
      b.expect([
        { cf: D, key: [3], ts: cmd.lockTs },
        { cf: W, key: [3], ts: cmd.lockTs },
        { cf: L, key: [3] }
      ])
    })
  )

  it.effect("TestCheckTxnStatusCommitted4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.checkTxnStatusRequest([3])
      b.init([
        { cf: D, key: [3], ts: cmd.lockTs, value: [42] },
        { cf: W, key: [3], ts: cmd.lockTs, value: [1, 0, 0, 5, 0, 0, 0, 0, b.ts()] }
      ])
      const resp = yield* ok(b.handlers.KvCheckTxnStatus(cmd))
      assert.strictEqual(resp.action, "NoAction")
      assert.strictEqual(resp.commitVersion, be64([0, 0, 5, 0, 0, 0, 0, b.ts()]))
      b.expectLens(1, 0, 1)
      b.expect([
        { cf: D, key: [3], ts: cmd.lockTs },
        { cf: W, key: [3], ts: cmd.lockTs }
      ])
    })
  )

  it.effect("TestCheckTxnStatusNoLockNoWrite4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.checkTxnStatusRequest([3])
      const resp = yield* ok(b.handlers.KvCheckTxnStatus(cmd))
      assert.strictEqual(resp.action, "LockNotExistRollback")
      b.expectLens(0, 0, 1)
      b.expect([{ cf: W, key: [3], ts: cmd.lockTs, value: [3, 0, 0, 5, 0, 0, 0, 0, b.ts()] }])
    })
  )
})

describe("KvResolveLock", () => {
  const locked100: ReadonlyArray<KvSpec> = [
    { cf: D, key: [3], ts: 100, value: [42] },
    { cf: L, key: [3], value: [1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0] },
    { cf: D, key: [7], ts: 100, value: [43] },
    { cf: L, key: [7], value: [1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0] },
    { cf: D, key: [200], ts: 110, value: [44] },
    { cf: L, key: [200], value: [1, 0, 0, 0, 0, 0, 0, 0, 110, 0, 0, 0, 0, 0, 0, 0, 0] }
  ]
  const written100: ReadonlyArray<KvSpec> = [
    { cf: D, key: [3], ts: 100, value: [42] },
    { cf: W, key: [201], ts: 120, value: [1, 0, 0, 0, 0, 0, 0, 0, 100] },
    { cf: D, key: [7], ts: 100, value: [43] },
    { cf: W, key: [201], ts: 100, value: [3, 0, 0, 0, 0, 0, 0, 0, 100] },
    { cf: D, key: [200], ts: 110, value: [44] },
    { cf: L, key: [200], value: [1, 0, 0, 0, 0, 0, 0, 0, 110, 0, 0, 0, 0, 0, 0, 0, 0] }
  ]
  const untouched = (b: Builder) =>
    b.expect([
      { cf: D, key: [3], ts: 100 },
      { cf: W, key: [201], ts: 120 },
      { cf: D, key: [7], ts: 100 },
      { cf: W, key: [201], ts: 100 },
      { cf: D, key: [200], ts: 110 },
      { cf: L, key: [200] }
    ])

  it.effect("TestEmptyResolve4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const resp = yield* ok(b.handlers.KvResolveLock(resolveRequest(0, 0)))
      assert.isUndefined(resp.error)
      b.expectLens(0, 0, 0)
    })
  )

  it.effect("TestResolveCommit4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init(locked100)
      const resp = yield* ok(b.handlers.KvResolveLock(resolveRequest(100, 120)))
      assert.isUndefined(resp.error)
      b.expectLens(3, 1, 2)
      b.expect([
        { cf: D, key: [3], ts: 100 },
        { cf: W, key: [3], ts: 120, value: [1, 0, 0, 0, 0, 0, 0, 0, 100] },
        { cf: D, key: [7], ts: 100 },
        { cf: W, key: [7], ts: 120, value: [1, 0, 0, 0, 0, 0, 0, 0, 100] },
        { cf: D, key: [200], ts: 110 },
        { cf: L, key: [200] }
      ])
    })
  )

  it.effect("TestResolveRollback4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init(locked100)
      const resp = yield* ok(b.handlers.KvResolveLock(resolveRequest(100, 0)))
      assert.isUndefined(resp.error)
      b.expectLens(1, 1, 2)
      b.expect([
        { cf: W, key: [3], ts: 100, value: [3, 0, 0, 0, 0, 0, 0, 0, 100] },
        { cf: W, key: [7], ts: 100, value: [3, 0, 0, 0, 0, 0, 0, 0, 100] },
        { cf: D, key: [200], ts: 110 },
        { cf: L, key: [200] }
      ])
    })
  )

  it.effect("TestResolveCommitWritten4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init(written100)
      const resp = yield* ok(b.handlers.KvResolveLock(resolveRequest(100, 120)))
      assert.isUndefined(resp.error)
      b.expectLens(3, 1, 2)
      untouched(b)
    })
  )

  it.effect("TestResolveRollbackWritten4C", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init(written100)
      const resp = yield* ok(b.handlers.KvResolveLock(resolveRequest(100, 0)))
      assert.isUndefined(resp.error)
      b.expectLens(3, 1, 2)
      untouched(b)
    })
  )
})

describe("KvScan", () => {
  const put = (start: number) => [1, 0, 0, 0, 0, 0, 0, 0, start]
  const makeScanBuilder = Effect.tap(makeBuilder, (b) =>
    b.init([
      // committed before 100
      ...[[1], [1, 23], [3], [3, 45], [3, 46], [3, 47], [3, 48], [4], [120], [199]].flatMap(
        (key, i): ReadonlyArray<KvSpec> => [
          { cf: D, key, ts: 80, value: [[50, 55, 51, 56, 57, 58, 59, 52, 53, 54][i]!] },
          { cf: W, key, ts: 99, value: put(80) }
        ]
      ),
      // committed after 100
      ...[
        [4, 45],
        [4, 46],
        [4, 47],
        [4, 48]
      ].flatMap(
        (key, i): ReadonlyArray<KvSpec> => [
          { cf: D, key, ts: 110, value: [[58, 57, 58, 59][i]!] },
          { cf: W, key, ts: 116, value: put(110) }
        ]
      ),
      // committed after 100, but started before
      ...[
        [5, 45],
        [5, 46],
        [5, 47],
        [5, 48]
      ].flatMap(
        (key, i): ReadonlyArray<KvSpec> => [
          { cf: D, key, ts: 97, value: [60 + i] },
          { cf: W, key, ts: 101, value: put(97) }
        ]
      ),
      // a deleted value and replaced value
      { cf: D, key: [150], ts: 80, value: [42] },
      { cf: W, key: [150], ts: 99, value: put(80) },
      { cf: W, key: [150], ts: 101, value: [2, 0, 0, 0, 0, 0, 0, 0, 97] },
      { cf: D, key: [150], ts: 110, value: [64] },
      { cf: W, key: [150], ts: 116, value: put(110) }
    ])
  )

  it.effect("TestScanEmpty4C", () =>
    Effect.gen(function* () {
      const b = yield* makeScanBuilder
      const resp = yield* ok(b.handlers.KvScan(b.scanRequest([200], 10000)))
      assert.deepStrictEqual(resp.pairs, [])
    })
  )

  it.effect("TestScanLimitZero4C", () =>
    Effect.gen(function* () {
      const b = yield* makeScanBuilder
      const resp = yield* ok(b.handlers.KvScan(b.scanRequest([3], 0)))
      assert.deepStrictEqual(resp.pairs, [])
    })
  )

  it.effect("TestScanAll4C", () =>
    Effect.gen(function* () {
      const b = yield* makeScanBuilder
      const resp = yield* ok(b.handlers.KvScan(b.scanRequest([0], 10000)))
      assert.strictEqual(resp.pairs.length, 11)
      assert.deepStrictEqual(resp.pairs[0]!.key, bytes([1]))
      assert.deepStrictEqual(resp.pairs[0]!.value, bytes([50]))
      assert.deepStrictEqual(resp.pairs[10]!.key, bytes([199]))
      assert.deepStrictEqual(resp.pairs[10]!.value, bytes([54]))
    })
  )

  it.effect("TestScanLimit4C", () =>
    Effect.gen(function* () {
      const b = yield* makeScanBuilder
      const resp = yield* ok(b.handlers.KvScan(b.scanRequest([2], 6)))
      assert.strictEqual(resp.pairs.length, 6)
      assert.deepStrictEqual(resp.pairs[0]!.key, bytes([3]))
      assert.deepStrictEqual(resp.pairs[0]!.value, bytes([51]))
      assert.deepStrictEqual(resp.pairs[5]!.key, bytes([4]))
      assert.deepStrictEqual(resp.pairs[5]!.value, bytes([52]))
    })
  )

  it.effect("TestScanDeleted4C", () =>
    Effect.gen(function* () {
      const b = yield* makeScanBuilder
      const at = (version: number) => ({ ...b.scanRequest([100], 10000), version: timestamp(version) })
      const r1 = yield* ok(b.handlers.KvScan(at(100)))
      assert.strictEqual(r1.pairs.length, 3)
      assert.deepStrictEqual(r1.pairs[1]!.key, bytes([150]))
      assert.deepStrictEqual(r1.pairs[1]!.value, bytes([42]))

      const r2 = yield* ok(b.handlers.KvScan(at(105)))
      assert.strictEqual(r2.pairs.length, 2)
      assert.deepStrictEqual(r2.pairs[0]!.key, bytes([120]))
      assert.deepStrictEqual(r2.pairs[1]!.key, bytes([199]))

      const r3 = yield* ok(b.handlers.KvScan(at(120)))
      assert.strictEqual(r3.pairs.length, 3)
      assert.deepStrictEqual(r3.pairs[1]!.key, bytes([150]))
      assert.deepStrictEqual(r3.pairs[1]!.value, bytes([64]))
    })
  )
})
