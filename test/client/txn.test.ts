/** `TinyKvClient.begin` / `transact` over TCP against a standalone store: the Percolator client end to end. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Ref } from "effect"
import { describeError } from "../../src/client/errors.js"
import type { Transaction } from "../../src/client/transaction.js"
import type { ClientError } from "../../src/client/TinyKvClient.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { withStore } from "./fixture.js"

const str = (o: Option.Option<Uint8Array>) => Option.map(o, fromUtf8)
const getStr = (t: Transaction<ClientError>, key: string) => Effect.map(t.get(utf8(key)), str)

describe("client transactions over TCP", () => {
  it.scopedLive("read-your-writes before commit, and everything lands at commit", () =>
    Effect.gen(function* () {
      const { kv, lockedKeys } = yield* withStore
      yield* kv.transact((t) => Effect.all([t.set(utf8("a"), utf8("1")), t.set(utf8("b"), utf8("2"))]))

      const t = yield* kv.begin()
      yield* t.set(utf8("a"), utf8("10"))
      yield* t.delete(utf8("b"))
      yield* t.set(utf8("c"), utf8("3"))
      assert.deepStrictEqual(yield* getStr(t, "a"), Option.some("10"))
      assert.deepStrictEqual(yield* getStr(t, "b"), Option.none())
      assert.deepStrictEqual(
        (yield* t.scan(utf8(""), 10)).map((e) => `${fromUtf8(e.key)}=${fromUtf8(e.value)}`),
        ["a=10", "c=3"]
      )
      // nothing is on the store before commit
      const outsider = yield* kv.begin()
      assert.deepStrictEqual(yield* getStr(outsider, "a"), Option.some("1"))

      const commitTs = yield* t.commit
      assert.isTrue(Option.isSome(commitTs) && commitTs.value > t.startTs)
      const after = yield* kv.begin()
      assert.deepStrictEqual(yield* getStr(after, "a"), Option.some("10"))
      assert.deepStrictEqual(yield* getStr(after, "b"), Option.none())
      assert.deepStrictEqual(yield* getStr(after, "c"), Option.some("3"))
      assert.deepStrictEqual(yield* after.commit, Option.none(), "a read-only commit writes nothing")
      assert.deepStrictEqual(yield* lockedKeys, [])
    })
  )

  it.scopedLive("snapshot isolation: a transaction does not see what commits after it started", () =>
    Effect.gen(function* () {
      const { kv } = yield* withStore
      yield* kv.transact((t) => t.set(utf8("k"), utf8("old")))
      const reader = yield* kv.begin()
      yield* kv.transact((t) => Effect.all([t.set(utf8("k"), utf8("new")), t.set(utf8("fresh"), utf8("x"))]))
      assert.deepStrictEqual(yield* getStr(reader, "k"), Option.some("old"))
      assert.deepStrictEqual(yield* getStr(reader, "fresh"), Option.none())
      assert.deepStrictEqual(
        (yield* reader.scan(utf8(""), 10)).map((e) => fromUtf8(e.key)),
        ["k"]
      )
      const later = yield* kv.begin()
      assert.deepStrictEqual(yield* getStr(later, "k"), Option.some("new"))
    })
  )

  it.scopedLive("write-write conflict: the later committer fails with WriteConflict and leaves nothing", () =>
    Effect.gen(function* () {
      const { kv, lockedKeys } = yield* withStore
      const winner = yield* kv.begin()
      const loser = yield* kv.begin()
      yield* winner.set(utf8("k"), utf8("winner"))
      yield* loser.set(utf8("a-loser-only"), utf8("loser"))
      yield* loser.set(utf8("k"), utf8("loser"))
      const winnerTs = Option.getOrThrow(yield* winner.commit)

      const e = yield* Effect.flip(loser.commit)
      assert.strictEqual(e._tag, "WriteConflict")
      if (e._tag !== "WriteConflict") return
      assert.strictEqual(fromUtf8(e.key), "k")
      assert.strictEqual(e.conflictTs, winnerTs)
      assert.strictEqual(e.startTs, loser.startTs)
      assert.strictEqual(fromUtf8(e.primary), "a-loser-only")
      assert.match(describeError(e), /write conflict on key "k".*retrying the transaction may help/)

      // the loser's locks are gone: nothing visible, and a new writer of its keys is not held up
      assert.deepStrictEqual(yield* lockedKeys, [])
      const check = yield* kv.begin()
      assert.deepStrictEqual(yield* getStr(check, "k"), Option.some("winner"))
      assert.deepStrictEqual(yield* getStr(check, "a-loser-only"), Option.none())
      yield* check.set(utf8("a-loser-only"), utf8("next"))
      assert.isTrue(Option.isSome(yield* check.commit))
    })
  )

  it.scopedLive("a crashed transaction's expired locks are rolled back by the next reader", () =>
    Effect.gen(function* () {
      const { kv, lockedKeys, prewriteOnly } = yield* withStore
      yield* kv.transact((t) => Effect.all([t.set(utf8("p"), utf8("before")), t.set(utf8("s"), utf8("before"))]))
      // prewritten with a 300 ms TTL, never committed: the client "crashed"
      yield* prewriteOnly(
        [
          ["p", "crashed"],
          ["s", "crashed"]
        ],
        300
      )
      assert.deepStrictEqual(yield* lockedKeys, ["p", "s"])

      const reader = yield* kv.begin()
      const started = Date.now()
      // the secondary's lock points at the primary: alive at first (wait), then expired (roll back)
      assert.deepStrictEqual(yield* getStr(reader, "s"), Option.some("before"))
      assert.isBelow(Date.now() - started, 5_000)
      assert.deepStrictEqual(yield* lockedKeys, [], "resolving rolls back every lock of the crashed transaction")
      assert.deepStrictEqual(yield* getStr(reader, "p"), Option.some("before"))
    })
  )

  it.scopedLive("a transaction that crashed after committing its primary is rolled forward by a reader", () =>
    Effect.gen(function* () {
      const { kv, lockedKeys, prewriteOnly, commitOnly } = yield* withStore
      const startTs = yield* prewriteOnly(
        [
          ["p", "v1"],
          ["s", "v1"]
        ],
        60_000
      )
      yield* commitOnly(startTs, ["p"])
      assert.deepStrictEqual(yield* lockedKeys, ["s"])
      const reader = yield* kv.begin()
      // no waiting: the primary says committed, so the leftover lock is committed, not waited out
      assert.deepStrictEqual(yield* getStr(reader, "s"), Option.some("v1"))
      assert.deepStrictEqual(yield* lockedKeys, [])
    })
  )

  it.scopedLive("a live lock past the wait budget fails the reader with KeyIsLocked", () =>
    Effect.gen(function* () {
      const { kv, prewriteOnly } = yield* withStore
      yield* prewriteOnly([["busy", "x"]], 60_000)
      const reader = yield* kv.begin({ lockRetries: 3 })
      const e = yield* Effect.flip(reader.get(utf8("busy")))
      assert.strictEqual(e._tag, "KeyIsLocked")
      if (e._tag === "KeyIsLocked") assert.strictEqual(fromUtf8(e.lock.key), "busy")
      assert.match(describeError(e), /key "busy" is locked by a transaction that is still running/)
    })
  )

  it.scopedLive("transact retries a conflicting attempt with a new timestamp", () =>
    Effect.gen(function* () {
      const { kv, client } = yield* withStore
      const other = yield* client()
      yield* kv.transact((t) => t.set(utf8("counter"), utf8("0")))
      const attempts = yield* Ref.make(0)
      const result = yield* kv.transact((t) =>
        Effect.gen(function* () {
          const n = yield* Ref.updateAndGet(attempts, (k) => k + 1)
          const value = Number(Option.getOrThrow(yield* getStr(t, "counter")))
          // the first attempt loses a race: someone else increments after our read
          if (n === 1) yield* other.transact((o) => o.set(utf8("counter"), utf8(String(value + 100))))
          yield* t.set(utf8("counter"), utf8(String(value + 1)))
          return value + 1
        })
      )
      assert.strictEqual(yield* Ref.get(attempts), 2)
      assert.strictEqual(result, 101)
      const check = yield* kv.begin()
      assert.deepStrictEqual(yield* getStr(check, "counter"), Option.some("101"))
    })
  )

  it.scopedLive("transact gives up after `retries` and returns the last conflict; other failures pass through", () =>
    Effect.gen(function* () {
      const { kv, client } = yield* withStore
      const other = yield* client()
      const attempts = yield* Ref.make(0)
      const e = yield* Effect.flip(
        kv.transact(
          (t) =>
            Effect.gen(function* () {
              yield* Ref.update(attempts, (k) => k + 1)
              yield* other.transact((o) => o.set(utf8("hot"), utf8("theirs")))
              yield* t.set(utf8("hot"), utf8("mine"))
            }),
          { retries: 2 }
        )
      )
      assert.strictEqual(e._tag, "WriteConflict")
      assert.strictEqual(yield* Ref.get(attempts), 3)

      const mine = yield* Effect.flip(
        kv.transact((t) => Effect.zipRight(t.set(utf8("never"), utf8("x")), Effect.fail("insufficient funds" as const)))
      )
      assert.strictEqual(mine, "insufficient funds")
      const check = yield* kv.begin()
      assert.deepStrictEqual(yield* getStr(check, "never"), Option.none())
    })
  )
})
