/**
 * The client examples of docs/TRANSACTIONS.md ("Using transactions") and README.md, run against a
 * standalone store through the library entry point `src/index.ts` (so its exports are checked too).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import {
  connect,
  isRetryable,
  KeyIsLocked,
  TinyKvClient,
  TxnAborted,
  txnRpcBackend,
  WriteConflict
} from "../../src/index.js"
import { startStandalone } from "../support/standalone.js"

const enc = new TextEncoder()
const dec = new TextDecoder()
const balance = (v: Option.Option<Uint8Array>) =>
  Number(Option.match(v, { onNone: () => "0", onSome: (b) => dec.decode(b) }))

const transfer = (from: string, to: string, amount: number) =>
  Effect.flatMap(TinyKvClient, (kv) =>
    kv.transact((txn) =>
      Effect.gen(function* () {
        const a = balance(yield* txn.get(enc.encode(from)))
        const b = balance(yield* txn.get(enc.encode(to)))
        if (a < amount) return yield* Effect.fail("insufficient funds" as const) // rolled back, not retried
        yield* txn.set(enc.encode(from), enc.encode(String(a - amount)))
        yield* txn.set(enc.encode(to), enc.encode(String(b + amount)))
      })
    )
  )

describe("docs examples", () => {
  it("the library exports the transaction API", () => {
    for (const f of [isRetryable, KeyIsLocked, TxnAborted, WriteConflict, txnRpcBackend]) assert.isFunction(f)
  })

  it.scopedLive("the Effect transfer", () =>
    Effect.gen(function* () {
      const { address } = yield* startStandalone()
      const kv = TinyKvClient.layer({ store: address })
      yield* Effect.flatMap(TinyKvClient, (c) => c.transact((t) => t.set(enc.encode("alice"), enc.encode("100")))).pipe(
        Effect.provide(kv)
      )
      yield* transfer("alice", "bob", 10).pipe(Effect.provide(kv))
      assert.strictEqual(
        yield* Effect.flip(transfer("bob", "alice", 50).pipe(Effect.provide(kv))),
        "insufficient funds"
      )
      const [alice, bob] = yield* Effect.flatMap(TinyKvClient, (c) =>
        Effect.flatMap(c.begin(), (t) => Effect.all([t.get(enc.encode("alice")), t.get(enc.encode("bob"))]))
      ).pipe(Effect.provide(kv))
      assert.deepStrictEqual([balance(alice), balance(bob)], [90, 10])
    })
  )

  it.scopedLive("the Promise transact and by-hand transaction", () =>
    Effect.gen(function* () {
      const { address } = yield* startStandalone()
      yield* Effect.promise(async () => {
        const kv = await connect({ store: address })
        await kv.transact(async (txn) => {
          const n = Number((await txn.getString("counter")) ?? "0")
          await txn.set("counter", String(n + 1))
        })
        const txn = await kv.begin()
        try {
          await txn.set("a", "1")
          assert.strictEqual(await txn.getString("a"), "1")
          await txn.commit()
        } catch (e) {
          await txn.rollback()
          if (!isRetryable(e)) throw e
        }
        const check = await kv.begin()
        assert.strictEqual(await check.getString("counter"), "1")
        assert.strictEqual(await check.getString("a"), "1")
        await kv.close()
      })
    })
  )
})
