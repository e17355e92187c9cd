/** The client transaction over in-process handlers: SI reads, 2PC, conflicts, lock resolution, rollback. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Ref, TestClock } from "effect"
import { begin, backendFromHandlers, transact, type TxnBackend } from "../../src/client/transaction.js"
import { layerKvMemory } from "../../src/layers/kvStorageStandalone.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { CF_LOCK } from "../../src/services/Storage.js"
import { makeTxnHandlers, type TxnHandlers } from "../../src/transaction/handlers.js"
import { makeLocalTso } from "../../src/transaction/localTso.js"
import { eventually } from "../../src/testing/eventually.js"

interface Env {
  readonly backend: TxnBackend
  readonly handlers: TxnHandlers
  /** How many locks the store holds right now. */
  readonly lockCount: Effect.Effect<number>
}

const makeEnv: Effect.Effect<Env> = Effect.gen(function* () {
  const storage = yield* KvStorage
  const handlers = yield* makeTxnHandlers
  const tso = yield* makeLocalTso
  const lockCount = Effect.scoped(
    Effect.map(storage.reader(undefined, "txn"), (r) => Array.from(r.iterCF(CF_LOCK, new Uint8Array(0))).length)
  ).pipe(Effect.orDie)
  return { backend: backendFromHandlers(handlers, tso.next), handlers, lockCount }
}).pipe(Effect.provide(layerKvMemory))

const str = (o: Option.Option<Uint8Array>) => Option.map(o, fromUtf8)

/** Writes `kvs` in one committed transaction. */
const put = (backend: TxnBackend, kvs: Record<string, string>) =>
  Effect.gen(function* () {
    const t = yield* begin(backend)
    for (const [k, v] of Object.entries(kvs)) yield* t.set(utf8(k), utf8(v))
    return yield* t.commit
  })

/** A transaction that prewrote `keys` (the first is the primary) and then crashed. */
const crashAfterPrewrite = (env: Env, kvs: Record<string, string>, lockTtl: number) =>
  Effect.gen(function* () {
    const startVersion = yield* env.backend.tso
    const mutations = Object.entries(kvs).map(([k, v]) => ({ op: "Put" as const, key: utf8(k), value: utf8(v) }))
    const resp = yield* env.handlers.KvPrewrite({ mutations, primaryLock: mutations[0]!.key, startVersion, lockTtl })
    assert.deepStrictEqual(resp.errors, [])
    return { startVersion, keys: mutations.map((m) => m.key) }
  })

describe("Transaction", () => {
  it.effect("reads its own writes, and commits them", () =>
    Effect.gen(function* () {
      const { backend } = yield* makeEnv
      yield* put(backend, { a: "1", b: "2" })
      const t = yield* begin(backend)
      yield* t.set(utf8("a"), utf8("10"))
      yield* t.delete(utf8("b"))
      yield* t.set(utf8("c"), utf8("3"))
      assert.deepStrictEqual(str(yield* t.get(utf8("a"))), Option.some("10"))
      assert.deepStrictEqual(str(yield* t.get(utf8("b"))), Option.none())
      const scanned = yield* t.scan(utf8(""), 10)
      assert.deepStrictEqual(
        scanned.map((e) => [fromUtf8(e.key), fromUtf8(e.value)]),
        [
          ["a", "10"],
          ["c", "3"]
        ]
      )
      const commitTs = yield* t.commit
      assert.isTrue(Option.isSome(commitTs) && commitTs.value > t.startTs)

      const after = yield* begin(backend)
      assert.deepStrictEqual(str(yield* after.get(utf8("a"))), Option.some("10"))
      assert.deepStrictEqual(str(yield* after.get(utf8("b"))), Option.none())
      assert.deepStrictEqual(str(yield* after.get(utf8("c"))), Option.some("3"))
    })
  )

  it.effect("reads a snapshot: writes committed after the start are invisible", () =>
    Effect.gen(function* () {
      const { backend } = yield* makeEnv
      yield* put(backend, { k: "old" })
      const reader = yield* begin(backend)
      yield* put(backend, { k: "new", fresh: "x" })
      assert.deepStrictEqual(str(yield* reader.get(utf8("k"))), Option.some("old"))
      assert.deepStrictEqual(str(yield* reader.get(utf8("fresh"))), Option.none())
      assert.strictEqual((yield* reader.scan(utf8(""), 10)).length, 1)
    })
  )

  it.effect("scan with buffered deletes still fills its limit", () =>
    Effect.gen(function* () {
      const { backend } = yield* makeEnv
      yield* put(backend, { k1: "1", k2: "2", k3: "3", k4: "4", k5: "5" })
      const t = yield* begin(backend)
      yield* t.delete(utf8("k1"))
      yield* t.delete(utf8("k2"))
      yield* t.set(utf8("k45"), utf8("x"))
      const got = yield* t.scan(utf8("k"), 3)
      assert.deepStrictEqual(
        got.map((e) => fromUtf8(e.key)),
        ["k3", "k4", "k45"]
      )
      assert.deepStrictEqual(yield* t.scan(utf8("k"), 0), [])
    })
  )

  it.effect("a write-write conflict fails the later committer with WriteConflict and leaves no locks", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      const t1 = yield* begin(env.backend)
      const t2 = yield* begin(env.backend)
      yield* t1.set(utf8("k"), utf8("one"))
      yield* t2.set(utf8("k"), utf8("two"))
      yield* t2.set(utf8("other"), utf8("two"))
      yield* t1.commit
      const e = yield* Effect.flip(t2.commit)
      assert.strictEqual(e._tag, "WriteConflict")
      if (e._tag === "WriteConflict") assert.strictEqual(fromUtf8(e.key), "k")
      assert.strictEqual(yield* env.lockCount, 0)
      const check = yield* begin(env.backend)
      assert.deepStrictEqual(str(yield* check.get(utf8("k"))), Option.some("one"))
      assert.deepStrictEqual(str(yield* check.get(utf8("other"))), Option.none())
    })
  )

  it.effect("a failed secondary-region prewrite rolls back the primary region", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      // two "regions": keys below "m" and the rest
      const backend: TxnBackend = {
        ...env.backend,
        groupByRegion: (keys) =>
          Effect.succeed(
            [keys.filter((k) => k[0]! < 0x6d), keys.filter((k) => k[0]! >= 0x6d)].filter((g) => g.length > 0)
          )
      }
      const t = yield* begin(backend)
      yield* put(backend, { z: "committed-later" })
      yield* t.set(utf8("a"), utf8("mine"))
      yield* t.set(utf8("z"), utf8("mine"))
      const e = yield* Effect.flip(t.commit)
      assert.strictEqual(e._tag, "WriteConflict")
      assert.strictEqual(yield* env.lockCount, 0)
      const check = yield* begin(backend)
      assert.deepStrictEqual(str(yield* check.get(utf8("a"))), Option.none())

      // and without the conflict, a multi-region commit lands everywhere
      const ok = yield* begin(backend)
      yield* ok.set(utf8("a"), utf8("A"))
      yield* ok.set(utf8("z"), utf8("Z"))
      yield* ok.commit
      const after = yield* begin(backend)
      assert.deepStrictEqual(str(yield* after.get(utf8("a"))), Option.some("A"))
      assert.deepStrictEqual(str(yield* after.get(utf8("z"))), Option.some("Z"))
      assert.strictEqual(yield* env.lockCount, 0)
    })
  )

  it.effect("transact does not commit again when the body committed itself", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      const runs = yield* Ref.make(0)
      const result = yield* transact(
        env.backend,
        (t) =>
          Effect.gen(function* () {
            yield* Ref.update(runs, (n) => n + 1)
            yield* t.set(utf8("self"), utf8("committed"))
            return yield* t.commit
          }),
        { retries: 2 }
      )
      assert.isTrue(Option.isSome(result))
      assert.strictEqual(yield* Ref.get(runs), 1)
      const t = yield* begin(env.backend)
      assert.deepStrictEqual(str(yield* t.get(utf8("self"))), Option.some("committed"))
    })
  )

  it.effect("rollback discards the buffer; a finished transaction refuses further use", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      const t = yield* begin(env.backend)
      yield* t.set(utf8("k"), utf8("v"))
      yield* t.rollback
      assert.strictEqual((yield* Effect.flip(t.commit))._tag, "TxnAborted")
      assert.strictEqual((yield* Effect.flip(t.get(utf8("k"))))._tag, "TxnAborted")
      assert.strictEqual((yield* Effect.flip(t.set(utf8("k"), utf8("v"))))._tag, "TxnAborted")
      const check = yield* begin(env.backend)
      assert.deepStrictEqual(str(yield* check.get(utf8("k"))), Option.none())
      // a read-only transaction commits nothing
      assert.deepStrictEqual(yield* check.commit, Option.none())
    })
  )
})

describe("transact", () => {
  it.live("retries conflicting transactions with fresh timestamps until all land", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      yield* put(env.backend, { counter: "0" })
      const attempts = yield* Ref.make(0)
      const increment = transact(env.backend, (t) =>
        Effect.gen(function* () {
          yield* Ref.update(attempts, (n) => n + 1)
          const n = Number(fromUtf8(Option.getOrThrow(yield* t.get(utf8("counter")))))
          yield* Effect.yieldNow() // let the others read the same value
          yield* t.set(utf8("counter"), utf8(String(n + 1)))
        })
      )
      yield* Effect.all([increment, increment, increment], { concurrency: "unbounded" })
      const t = yield* begin(env.backend)
      assert.deepStrictEqual(str(yield* t.get(utf8("counter"))), Option.some("3"))
      assert.isAbove(yield* Ref.get(attempts), 3, "expected at least one conflict and retry")
      assert.strictEqual(yield* env.lockCount, 0)
    })
  )

  it.live("a failure of the body rolls back and is returned as is", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      const e = yield* Effect.flip(
        transact(env.backend, (t) => Effect.zipRight(t.set(utf8("k"), utf8("v")), Effect.fail("nope" as const)))
      )
      assert.strictEqual(e, "nope")
      const t = yield* begin(env.backend)
      assert.deepStrictEqual(str(yield* t.get(utf8("k"))), Option.none())
    })
  )
})

describe("lock resolution", () => {
  it.effect("a crashed transaction's expired lock is rolled back by the next reader", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      yield* put(env.backend, { p: "p0", s: "s0" })
      yield* TestClock.adjust("1 second")
      yield* crashAfterPrewrite(env, { p: "p1", s: "s1" }, 10)
      assert.strictEqual(yield* env.lockCount, 2)
      yield* TestClock.adjust("20 millis") // past the 10 ms TTL
      const reader = yield* begin(env.backend)
      assert.deepStrictEqual(str(yield* reader.get(utf8("s"))), Option.some("s0"))
      assert.strictEqual(yield* env.lockCount, 0)
      assert.deepStrictEqual(str(yield* reader.get(utf8("p"))), Option.some("p0"))
    })
  )

  it.effect("a transaction that crashed after committing its primary is rolled forward", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      yield* put(env.backend, { p: "p0", s: "s0" })
      const { startVersion } = yield* crashAfterPrewrite(env, { p: "p1", s: "s1" }, 60_000)
      const commitVersion = yield* env.backend.tso
      const c = yield* env.handlers.KvCommit({ startVersion, keys: [utf8("p")], commitVersion })
      assert.isUndefined(c.error)
      const reader = yield* begin(env.backend)
      assert.deepStrictEqual(str(yield* reader.get(utf8("s"))), Option.some("s1"))
      const all = yield* reader.scan(utf8(""), 10)
      assert.deepStrictEqual(
        all.map((e) => fromUtf8(e.value)),
        ["p1", "s1"]
      )
      assert.strictEqual(yield* env.lockCount, 0)
    })
  )

  it.effect("a writer resolves an expired lock in its way and commits", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      yield* TestClock.adjust("1 second")
      yield* crashAfterPrewrite(env, { k: "crashed" }, 5)
      yield* TestClock.adjust("10 millis")
      const t = yield* begin(env.backend)
      yield* t.set(utf8("k"), utf8("mine"))
      yield* t.commit
      const check = yield* begin(env.backend)
      assert.deepStrictEqual(str(yield* check.get(utf8("k"))), Option.some("mine"))
    })
  )

  it.live("a live lock makes reads wait, then fail with KeyIsLocked", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      yield* crashAfterPrewrite(env, { k: "pending" }, 60_000)
      const t = yield* begin(env.backend, { lockRetries: 3, backoffBaseMs: 1, backoffMaxMs: 2 })
      const e = yield* Effect.flip(t.get(utf8("k")))
      assert.strictEqual(e._tag, "KeyIsLocked")
      if (e._tag === "KeyIsLocked") assert.strictEqual(fromUtf8(e.lock.key), "k")
      // waiting did not touch the live transaction's lock
      assert.strictEqual(yield* env.lockCount, 1)
    })
  )

  it.live("a reader waits out a live lock that commits meanwhile", () =>
    Effect.gen(function* () {
      const env = yield* makeEnv
      const { startVersion } = yield* crashAfterPrewrite(env, { k: "v" }, 60_000)
      // count the reader's answered Gets: once one is answered the reader has its start ts and met the lock
      let getsAnswered = 0
      const counted: TxnBackend = {
        ...env.backend,
        KvGet: (req) => Effect.tap(env.backend.KvGet(req), () => Effect.sync(() => void getsAnswered++))
      }
      const reader = yield* begin(counted, { backoffBaseMs: 5, backoffMaxMs: 10 })
      const read = yield* Effect.fork(reader.get(utf8("k")))
      yield* eventually(() => getsAnswered >= 1, { what: "the reader to meet the lock" })
      const commitVersion = yield* env.backend.tso
      // committed after the reader started: the reader must not see it
      yield* env.handlers.KvCommit({ startVersion, keys: [utf8("k")], commitVersion })
      assert.deepStrictEqual(str(yield* read), Option.none())
    })
  )
})
