/** TinyKV project 4B: KvGet, KvPrewrite, KvCommit (`kv/transaction/commands4b_test.go`). */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { CF_DEFAULT as D, CF_LOCK as L, CF_WRITE as W } from "../../src/services/Storage.js"
import { TS_MAX } from "../../src/transaction/mvccKey.js"
import { bytes, getRequest, makeBuilder, mutation, ok } from "./harness.js"

const v42 = [
  { cf: D, key: [99], ts: 50, value: [42] },
  { cf: W, key: [99], ts: 54, value: [1, 0, 0, 0, 0, 0, 0, 0, 50] }
] as const

describe("KvGet", () => {
  it.effect("TestGetValue4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init(v42)
      const resp = yield* ok(b.handlers.KvGet(getRequest([99], TS_MAX)))
      assert.isUndefined(resp.error)
      assert.deepStrictEqual(resp.value, bytes([42]))
    })
  )

  it.effect("TestGetValueTs4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init(v42)
      for (let i = 0; i < 3; i++) {
        const resp = yield* ok(b.handlers.KvGet(getRequest([99], 100)))
        assert.isUndefined(resp.error)
        assert.deepStrictEqual(resp.value, bytes([42]))
      }
    })
  )

  it.effect("TestGetEmpty4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const resp = yield* ok(b.handlers.KvGet(getRequest([100], TS_MAX)))
      assert.isUndefined(resp.error)
      assert.isTrue(resp.notFound)
    })
  )

  it.effect("TestGetNone4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init([
        ...v42,
        { cf: D, key: [101], ts: 50, value: [42] },
        { cf: W, key: [101], ts: 54, value: [1, 0, 0, 0, 0, 0, 0, 0, 50] }
      ])
      const resp = yield* ok(b.handlers.KvGet(getRequest([100], TS_MAX)))
      assert.isUndefined(resp.error)
      assert.isTrue(resp.notFound)
    })
  )

  it.effect("TestGetVersions4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init([
        ...v42,
        { cf: D, key: [99], ts: 60, value: [43] },
        { cf: W, key: [99], ts: 66, value: [1, 0, 0, 0, 0, 0, 0, 0, 60] },
        { cf: D, key: [99], ts: 120, value: [44] },
        { cf: W, key: [99], ts: 122, value: [1, 0, 0, 0, 0, 0, 0, 0, 120] }
      ])
      const expected: ReadonlyArray<[number, number | undefined]> = [
        [40, undefined],
        [56, 42],
        [60, 42],
        [65, 42],
        [66, 43],
        [100, 43]
      ]
      for (const [version, value] of expected) {
        const resp = yield* ok(b.handlers.KvGet(getRequest([99], version)))
        assert.isUndefined(resp.error)
        if (value === undefined) assert.isTrue(resp.notFound, `read at ${version}`)
        else assert.deepStrictEqual(resp.value, bytes([value]), `read at ${version}`)
      }
    })
  )

  it.effect("TestGetDeleted4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init([
        ...v42,
        { cf: D, key: [99], ts: 60 },
        { cf: W, key: [99], ts: 66, value: [2, 0, 0, 0, 0, 0, 0, 0, 60] },
        { cf: D, key: [99], ts: 120, value: [44] },
        { cf: W, key: [99], ts: 122, value: [1, 0, 0, 0, 0, 0, 0, 0, 120] }
      ])
      const expected: ReadonlyArray<[number, number | undefined]> = [
        [54, 42],
        [60, 42],
        [65, 42],
        [66, undefined],
        [67, undefined],
        [122, 44]
      ]
      for (const [version, value] of expected) {
        const resp = yield* ok(b.handlers.KvGet(getRequest([99], version)))
        assert.isUndefined(resp.error)
        if (value === undefined) assert.isTrue(resp.notFound, `read at ${version}`)
        else assert.deepStrictEqual(resp.value, bytes([value]), `read at ${version}`)
      }
    })
  )

  it.effect("TestGetLocked4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      b.init([...v42, { cf: L, key: [99], value: [99, 1, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0] }])
      const older = yield* ok(b.handlers.KvGet(getRequest([99], 55)))
      assert.isUndefined(older.error)
      assert.deepStrictEqual(older.value, bytes([42]))

      const newer = yield* ok(b.handlers.KvGet(getRequest([99], 300)))
      const lock = newer.error?.locked
      assert.isDefined(lock)
      assert.deepStrictEqual(lock!.key, bytes([99]))
      assert.deepStrictEqual(lock!.primaryLock, bytes([99]))
      assert.strictEqual(lock!.lockVersion, 200n)
    })
  )
})

describe("KvPrewrite", () => {
  it.effect("TestEmptyPrewrite4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const resp = yield* ok(b.handlers.KvPrewrite(b.prewriteRequest()))
      assert.deepStrictEqual(resp.errors, [])
      b.expectLens(0, 0, 0)
    })
  )

  it.effect("TestSinglePrewrite4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = { ...b.prewriteRequest(mutation(3, [42], "Put")), lockTtl: 1000 }
      const resp = yield* ok(b.handlers.KvPrewrite(cmd))
      assert.deepStrictEqual(resp.errors, [])
      b.expectLens(1, 1, 0)
      b.expect([
        { cf: D, key: [3], value: [42] },
        { cf: L, key: [3], value: [1, 1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 3, 232] }
      ])
    })
  )

  it.effect("TestPrewriteLocked4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.prewriteRequest(mutation(3, [42], "Put"))
      const cmd2 = b.prewriteRequest(mutation(3, [53], "Put"))
      const r1 = yield* ok(b.handlers.KvPrewrite(cmd))
      const r2 = yield* ok(b.handlers.KvPrewrite(cmd2))
      assert.deepStrictEqual(r1.errors, [])
      assert.strictEqual(r2.errors.length, 1)
      assert.isDefined(r2.errors[0]!.locked)
      b.expectLens(1, 1, 0)
      b.expect([
        { cf: D, key: [3], ts: 100, value: [42] },
        { cf: L, key: [3], value: [1, 1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0] }
      ])
    })
  )

  it.effect("TestPrewriteWritten4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.prewriteRequest(mutation(3, [42], "Put"))
      b.init([
        { cf: D, key: [3], ts: 80, value: [5] },
        { cf: W, key: [3], ts: 101, value: [1, 0, 0, 0, 0, 0, 0, 0, 80] }
      ])
      const resp = yield* ok(b.handlers.KvPrewrite(cmd))
      assert.strictEqual(resp.errors.length, 1)
      const conflict = resp.errors[0]!.conflict
      assert.isDefined(conflict)
      assert.strictEqual(conflict!.conflictTs, 101n)
      assert.strictEqual(conflict!.startTs, 100n)
      b.expectLens(1, 0, 1)
      b.expect([{ cf: D, key: [3], ts: 80, value: [5] }])
    })
  )

  it.effect("TestPrewriteWrittenNoConflict4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.prewriteRequest(mutation(3, [42], "Put"))
      b.init([
        { cf: D, key: [3], ts: 80, value: [5] },
        { cf: W, key: [3], ts: 90, value: [1, 0, 0, 0, 0, 0, 0, 0, 80] }
      ])
      const resp = yield* ok(b.handlers.KvPrewrite(cmd))
      assert.deepStrictEqual(resp.errors, [])
      b.expectLens(2, 1, 1)
      b.expect([
        { cf: D, key: [3], ts: 80, value: [5] },
        { cf: D, key: [3], value: [42] },
        { cf: L, key: [3], value: [1, 1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 0] }
      ])
    })
  )

  it.effect("TestMultiplePrewrites4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.prewriteRequest(mutation(3, [42], "Put"))
      const cmd2 = b.prewriteRequest(mutation(4, [53], "Put"))
      assert.deepStrictEqual((yield* ok(b.handlers.KvPrewrite(cmd))).errors, [])
      assert.deepStrictEqual((yield* ok(b.handlers.KvPrewrite(cmd2))).errors, [])
      b.expectLens(2, 2, 0)
      b.expect([
        { cf: D, key: [3], ts: 100, value: [42] },
        { cf: L, key: [3], value: [1, 1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0] },
        { cf: D, key: [4], ts: 101, value: [53] },
        { cf: L, key: [4], value: [1, 1, 0, 0, 0, 0, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 0] }
      ])
    })
  )

  it.effect("TestPrewriteOverwrite4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.prewriteRequest(mutation(3, [42], "Put"), mutation(3, [45], "Put"))
      assert.deepStrictEqual((yield* ok(b.handlers.KvPrewrite(cmd))).errors, [])
      b.expectLens(1, 1, 0)
      b.expect([
        { cf: D, key: [3], value: [45] },
        { cf: L, key: [3], value: [1, 1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 0] }
      ])
    })
  )

  it.effect("TestPrewriteMultiple4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.prewriteRequest(
        mutation(3, [42], "Put"),
        mutation(4, [43], "Put"),
        mutation(5, [44], "Put"),
        mutation(4, undefined, "Del"),
        mutation(4, [1, 3, 5], "Put"),
        mutation(255, [45], "Put")
      )
      assert.deepStrictEqual((yield* ok(b.handlers.KvPrewrite(cmd))).errors, [])
      b.expectLens(4, 4, 0)
      b.expect([{ cf: D, key: [4], value: [1, 3, 5] }])
    })
  )
})

describe("KvCommit", () => {
  it.effect("TestEmptyCommit4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const resp = yield* ok(b.handlers.KvCommit(b.commitRequest()))
      assert.isUndefined(resp.error)
      b.expectLens(0, 0, 0)
    })
  )

  it.effect("TestSingleCommit4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3])
      b.init([
        { cf: D, key: [3], value: [42] },
        { cf: L, key: [3], value: [1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 0] }
      ])
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(1, 0, 1)
      b.expect([
        { cf: W, key: [3], ts: 110, value: [1, 0, 0, 0, 0, 0, 0, 0, b.ts()] },
        { cf: D, key: [3] }
      ])
    })
  )

  it.effect("TestCommitOverwrite4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3])
      b.init([
        // a previous, committed write
        { cf: D, key: [3], ts: 80, value: [15] },
        { cf: W, key: [3], ts: 84, value: [1, 0, 0, 0, 0, 0, 0, 0, 80] },
        // the current, prewritten write
        { cf: D, key: [3], value: [42] },
        { cf: L, key: [3], value: [1, 1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 0] }
      ])
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(2, 0, 2)
      b.expect([
        { cf: W, key: [3], ts: 110, value: [1, 0, 0, 0, 0, 0, 0, 0, b.ts()] },
        { cf: D, key: [3] }
      ])
    })
  )

  it.effect("TestCommitMultipleKeys4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3], [12, 4, 0], [15])
      const mine = [1, 1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 0]
      const other = [1, 2, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0]
      b.init([
        // current, prewritten
        { cf: D, key: [3], value: [42] },
        { cf: L, key: [3], value: mine },
        { cf: D, key: [12, 4, 0], value: [1, 1, 0, 0, 1, 5] },
        { cf: L, key: [12, 4, 0], value: mine },
        { cf: D, key: [15], value: [0] },
        { cf: L, key: [15], value: mine },
        // some committed data
        { cf: D, key: [4], ts: 80, value: [15] },
        { cf: W, key: [4], ts: 84, value: [1, 0, 0, 0, 0, 0, 0, 0, 80] },
        { cf: D, key: [3, 0], ts: 80, value: [150] },
        { cf: W, key: [3, 0], ts: 84, value: [1, 0, 0, 0, 0, 0, 0, 0, 80] },
        // another prewritten transaction
        { cf: D, key: [2], ts: 99, value: [0, 0, 0, 8] },
        { cf: L, key: [2], value: other },
        { cf: D, key: [43, 6], ts: 99, value: [1, 1, 0, 0, 1, 5] },
        { cf: L, key: [43, 6], value: other }
      ])
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(7, 2, 5)
      const committed = [1, 0, 0, 0, 0, 0, 0, 0, b.ts()]
      b.expect([
        // the newly committed data
        { cf: W, key: [3], ts: 110, value: committed },
        { cf: W, key: [12, 4, 0], ts: 110, value: committed },
        { cf: W, key: [15], ts: 110, value: committed },
        // committed data is untouched
        { cf: D, key: [4], ts: 80 },
        { cf: W, key: [4], ts: 84 },
        { cf: D, key: [3, 0], ts: 80 },
        { cf: W, key: [3, 0], ts: 84 },
        // prewritten data is untouched
        { cf: D, key: [2], ts: 99 },
        { cf: L, key: [2] },
        { cf: D, key: [43, 6], ts: 99 },
        { cf: L, key: [43, 6] }
      ])
    })
  )

  it.effect("TestRecommitKey4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3], [3])
      b.init([
        { cf: D, key: [3], value: [42] },
        { cf: L, key: [3], value: [1, 1, 0, 0, 0, 0, 0, 0, 0, b.ts(), 0, 0, 0, 0, 0, 0, 0, 0] }
      ])
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(1, 0, 1)
      b.expect([
        { cf: W, key: [3], ts: 110, value: [1, 0, 0, 0, 0, 0, 0, 0, b.ts()] },
        { cf: D, key: [3] }
      ])
    })
  )

  it.effect("TestCommitConflictRollback4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3])
      b.init([{ cf: W, key: [3], ts: 110, value: [3, 0, 0, 0, 0, 0, 0, 0, b.ts()] }])
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.isDefined(resp.error)
      assert.isDefined(resp.error!.abort)
      b.expectLens(0, 0, 1)
      b.expect([{ cf: W, key: [3], ts: 110 }])
    })
  )

  it.effect("TestCommitConflictRace4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3])
      b.init([
        { cf: D, key: [3], ts: 90, value: [110] },
        { cf: L, key: [3], value: [1, 3, 0, 0, 0, 0, 0, 0, 0, 90, 0, 0, 0, 0, 0, 0, 0, 0] }
      ])
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.isNotEmpty(resp.error?.retryable ?? "")
      b.expectLens(1, 1, 0)
      b.expect([
        { cf: L, key: [3] },
        { cf: D, key: [3], ts: 90 }
      ])
    })
  )

  it.effect("TestCommitConflictRepeat4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3])
      b.init([
        { cf: D, key: [3], value: [42] },
        { cf: W, key: [3], ts: 110, value: [1, 0, 0, 0, 0, 0, 0, 0, b.ts()] }
      ])
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(1, 0, 1)
      b.expect([
        { cf: W, key: [3], ts: 110 },
        { cf: D, key: [3] }
      ])
    })
  )

  it.effect("TestCommitMissingPrewrite4B", () =>
    Effect.gen(function* () {
      const b = yield* makeBuilder
      const cmd = b.commitRequest([3])
      b.init([
        // some committed data; note no prewrite
        { cf: D, key: [4], ts: 80, value: [15] },
        { cf: W, key: [4], ts: 84, value: [1, 0, 0, 0, 0, 0, 0, 0, 80] },
        { cf: D, key: [3, 0], ts: 80, value: [150] },
        { cf: W, key: [3, 0], ts: 84, value: [1, 0, 0, 0, 0, 0, 0, 0, 80] }
      ])
      const resp = yield* ok(b.handlers.KvCommit(cmd))
      assert.isUndefined(resp.error)
      b.expectLens(2, 0, 2)
      b.expect([
        { cf: D, key: [4], ts: 80 },
        { cf: W, key: [4], ts: 84 },
        { cf: D, key: [3, 0], ts: 80 },
        { cf: W, key: [3, 0], ts: 84 }
      ])
    })
  )
})
