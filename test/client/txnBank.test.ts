/**
 * The bank invariant over TCP: 4 client fibers (one connection each) move money between 8 accounts
 * for 2 s through `transact`, while an auditor reads every balance in one read-only transaction;
 * every snapshot and the end state must hold the same total, and no lock may be left behind.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Random, Ref } from "effect"
import type { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { withStore } from "./fixture.js"

const ACCOUNTS = 8
const INITIAL = 100
const TOTAL = ACCOUNTS * INITIAL
const CLIENTS = 4
const RUN_MS = 2_000

const account = (i: number) => utf8(`acct-${String(i).padStart(3, "0")}`)
const balance = (v: Option.Option<Uint8Array>) => Number(fromUtf8(Option.getOrThrow(v)))

describe("bank over TCP", () => {
  it.scopedLive(
    `${CLIENTS} clients × ${RUN_MS / 1000} s of transfers keep the total; every snapshot sees it`,
    () =>
      Effect.gen(function* () {
        const { kv, client, lockedKeys } = yield* withStore
        yield* kv.transact((t) =>
          Effect.forEach(
            Array.from({ length: ACCOUNTS }, (_, i) => i),
            (i) => t.set(account(i), utf8(String(INITIAL)))
          )
        )
        const committed = yield* Ref.make(0)
        // attempts - committed = attempts that conflicted and were run again
        const attempts = yield* Ref.make(0)
        const audits = yield* Ref.make(0)
        const deadline = Date.now() + RUN_MS

        const transfer = (c: TinyKvClient["Type"]) =>
          Effect.gen(function* () {
            const from = yield* Random.nextIntBetween(0, ACCOUNTS)
            const to = (from + (yield* Random.nextIntBetween(1, ACCOUNTS))) % ACCOUNTS
            const amount = yield* Random.nextIntBetween(1, 20)
            yield* c.transact(
              (t) =>
                Effect.gen(function* () {
                  yield* Ref.update(attempts, (n) => n + 1)
                  const a = balance(yield* t.get(account(from)))
                  const b = balance(yield* t.get(account(to)))
                  if (a < amount) return
                  yield* t.set(account(from), utf8(String(a - amount)))
                  yield* t.set(account(to), utf8(String(b + amount)))
                }),
              { retries: 50 }
            )
            yield* Ref.update(committed, (n) => n + 1)
          })

        const audit = Effect.gen(function* () {
          const t = yield* kv.begin()
          const rows = yield* t.scan(utf8("acct-"), ACCOUNTS + 1)
          assert.strictEqual(rows.length, ACCOUNTS)
          const sum = rows.reduce((s, r) => s + Number(fromUtf8(r.value)), 0)
          assert.strictEqual(sum, TOTAL, `snapshot at ${t.startTs} saw total ${sum}`)
          yield* t.commit
          yield* Ref.update(audits, (n) => n + 1)
        })

        const clients = yield* Effect.forEach(Array.from({ length: CLIENTS }), () => client())
        const writers = yield* Effect.fork(
          Effect.forEach(
            clients,
            (c) =>
              Effect.gen(function* () {
                // at least 2 s, and on a loaded machine until enough transfers ran for the checks to mean something
                while (Date.now() < deadline || ((yield* Ref.get(committed)) <= 20 && Date.now() < deadline + 30_000))
                  yield* transfer(c)
              }),
            { concurrency: "unbounded", discard: true }
          )
        )
        const auditor = yield* Effect.fork(
          Effect.gen(function* () {
            while (Date.now() < deadline || ((yield* Ref.get(audits)) <= 5 && Date.now() < deadline + 30_000)) {
              yield* audit
              yield* Effect.sleep("20 millis")
            }
          })
        )
        yield* Fiber.join(writers)
        yield* Fiber.join(auditor)
        yield* audit

        assert.deepStrictEqual(yield* lockedKeys, [])
        assert.isAbove(yield* Ref.get(committed), 20, "too few transfers committed")
        assert.isAbove(yield* Ref.get(audits), 5, "too few audits")
        assert.isAtLeast(yield* Ref.get(attempts), yield* Ref.get(committed))
      }),
    60_000
  )
})
