/** The example of docs/TRANSACTIONS.md, kept compiling and running. */
import { assert, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { backendFromHandlers, begin, transact } from "../../src/client/transaction.js"
import { layerKvMemory } from "../../src/layers/kvStorageStandalone.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { makeTxnHandlers } from "../../src/transaction/handlers.js"
import { makeLocalTso } from "../../src/transaction/localTso.js"

it.live("TRANSACTIONS.md: a transfer between two accounts", () =>
  Effect.gen(function* () {
    const handlers = yield* makeTxnHandlers
    const tso = yield* makeLocalTso
    const backend = backendFromHandlers(handlers, tso.next)

    const balance = (v: Option.Option<Uint8Array>) => Number(Option.match(v, { onNone: () => "0", onSome: fromUtf8 }))

    const transfer = transact(backend, (txn) =>
      Effect.gen(function* () {
        const alice = balance(yield* txn.get(utf8("alice")))
        const bob = balance(yield* txn.get(utf8("bob")))
        if (alice < 10) return yield* Effect.fail("insufficient funds" as const) // rolls back, not retried
        yield* txn.set(utf8("alice"), utf8(String(alice - 10)))
        yield* txn.set(utf8("bob"), utf8(String(bob + 10)))
      })
    )

    assert.strictEqual(yield* Effect.flip(transfer), "insufficient funds")
    yield* transact(backend, (txn) => txn.set(utf8("alice"), utf8("15")))
    yield* transfer
    assert.strictEqual(yield* Effect.flip(transfer), "insufficient funds")
    const t = yield* begin(backend)
    assert.strictEqual(balance(yield* t.get(utf8("alice"))), 5)
    assert.strictEqual(balance(yield* t.get(utf8("bob"))), 10)
  }).pipe(Effect.provide(layerKvMemory))
)
