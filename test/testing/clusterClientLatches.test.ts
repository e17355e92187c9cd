/**
 * One store run is served by one set of handlers, whichever call reaches it: the transaction handlers'
 * latches serialize the read-decide-write of commands on one key only within one set. The in-process
 * client once built a fresh set (fresh latches) per call, because the cluster wrapped the running store in
 * a new object each time; two prewrites sharing a secondary key then both read no lock, the later lock
 * replaced the earlier one, and the earlier transaction's committed write to that key was lost.
 *
 * Each transaction here adds one to a shared counter (a secondary: it sorts after every primary) and marks
 * its own primary key; all run at once, from two clients, on one store with no faults, so a lost increment
 * can only come from two prewrites of the counter deciding from the same snapshot.
 */
import { assert, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { TestCluster } from "../../src/testing/TestCluster.js"

const TXNS = 12
const counter = utf8("z/counter")

it.live("concurrent transactions from two clients lose no increment of a shared secondary key", () =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores: 1 })
    yield* cluster.start
    // two clients, as two processes would be: their connections differ, the store they reach does not
    const clients = [
      yield* Layer.build(cluster.clientLayer()).pipe(Effect.map(Context.get(TinyKvClient))),
      yield* Layer.build(cluster.clientLayer()).pipe(Effect.map(Context.get(TinyKvClient)))
    ] as const
    yield* clients[0].transact((t) => t.set(counter, utf8("0")))
    yield* Effect.forEach(
      Array.from({ length: TXNS }, (_, i) => i),
      (i) =>
        clients[i % 2]!.transact(
          (t) =>
            Effect.gen(function* () {
              const n = Number(fromUtf8(Option.getOrThrow(yield* t.get(counter))))
              yield* t.set(utf8(`a/${i}`), utf8("done"))
              yield* t.set(counter, utf8(String(n + 1)))
            }),
          { retries: 100 }
        ),
      { concurrency: "unbounded", discard: true }
    )
    const final = yield* clients[1].transact((t) => t.get(counter))
    assert.strictEqual(fromUtf8(Option.getOrThrow(final)), String(TXNS))
  }).pipe(Effect.scoped)
)
