/**
 * The README's example, run as written: application code against `TinyKvClient`, tested on an in-process
 * `TestCluster` whose leader store is stopped mid-test. `readme.test.ts` checks the README shows exactly
 * the lines between the markers.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { TinyKvClient } from "../../src/index.js"
import { TestCluster } from "../../src/testing/index.js"

// README:begin
// application code, written against the client
const greet = (name: string) => Effect.flatMap(TinyKvClient, (kv) => kv.rawPut(`greeting/${name}`, `hello ${name}`))

it.live("greetings survive the loss of a store", () =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores: 3 })
    yield* cluster.start
    yield* Effect.gen(function* () {
      yield* greet("ada")
      const { leader } = yield* cluster.getRegion(new TextEncoder().encode("greeting/ada"))
      yield* cluster.stopStore(leader!.storeId) // the leader crashes
      yield* greet("grace") // the client finds the new leader
      const kv = yield* TinyKvClient
      const pairs = yield* kv.rawScan("greeting/")
      assert.deepStrictEqual(
        pairs.map((p) => new TextDecoder().decode(p.value)),
        ["hello ada", "hello grace"]
      )
    }).pipe(Effect.provide(cluster.clientLayer()))
  }).pipe(Effect.scoped)
)
// README:end

it.live("the Promise facade reaches the same in-process cluster", () =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores: 3 })
    yield* cluster.start
    const kv = yield* Effect.acquireRelease(
      Effect.promise(() => cluster.connect()),
      (c) => Effect.promise(() => c.close())
    )
    yield* Effect.promise(() => kv.put("k", "v"))
    assert.strictEqual(yield* Effect.promise(() => kv.getString("k")), "v")
    yield* Effect.promise(() =>
      kv.transact(async (txn) => {
        await txn.set("counter", "1")
      })
    )
    const seen = yield* Effect.promise(() => kv.transact((txn) => txn.getString("counter")))
    assert.strictEqual(seen, "1")
  }).pipe(Effect.scoped)
)

it.live("a stopped store answers StoreUnavailable, and a restarted one is reached again", () =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores: 1 })
    yield* cluster.start
    const [store] = cluster.storeIds
    yield* Effect.gen(function* () {
      const kv = yield* TinyKvClient
      yield* kv.rawPut("a", "1")
      yield* cluster.stopStore(store!)
      const failure = yield* Effect.flip(kv.rawGet("a"))
      assert.include(["StoreUnavailable", "RequestTimeout", "RegionNotFound"], failure._tag)
      yield* cluster.startStore(store!)
      const value = yield* kv.rawGet("a")
      assert.strictEqual(new TextDecoder().decode(value!), "1")
    }).pipe(Effect.provide(cluster.clientLayer({ deadline: "2 seconds" })))
  }).pipe(Effect.scoped)
)
