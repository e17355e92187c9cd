/**
 * Deterministic simulation: under `TestClock`, with the RaftWorker yielding through Effect's scheduler
 * (`deterministic: true`) and a fixed seed, a TestCluster run is a pure function of the seed — the same
 * leader, terms, applied indexes, message counts and data, run after run.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { REGION_1 } from "./helpers.js"

/** Runs `scenario` while advancing the TestClock 10 ms at a time (TestClock waits for fibers to settle). */
const drive = <A, E>(scenario: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(scenario)
    for (let step = 0; step < 3_000; step++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust("10 millis")
    }
    return yield* Fiber.join(fiber)
  })

const run = (seed: number) =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores: 3, seed, deterministic: true })
    return yield* drive(
      Effect.gen(function* () {
        yield* cluster.start
        for (let i = 0; i < 10; i++) yield* cluster.mustPut(`k${i}`, `v${i}`)
        yield* cluster.isolate(1)
        for (let i = 10; i < 15; i++) yield* cluster.mustPut(`k${i}`, `v${i}`)
        yield* cluster.clearFilters
        // under the TestClock: this sleep drives one second of virtual time (store 1 catches up), it is not a wait
        yield* Effect.sleep("1 second")
        const peers = cluster.storeIds.map((id) => cluster.store(id)!.peers.get(REGION_1)!)
        const values = yield* cluster.scan("k", "l")
        return {
          leader: cluster.leaderOf(REGION_1)?.id,
          terms: peers.map((p) => p.term),
          applied: peers.map((p) => p.storage.appliedIndex),
          lastIndex: peers.map((p) => p.storage.lastIndex()),
          network: yield* cluster.network.stats(),
          values: values.map((kv) => `${fromUtf8(kv.key)}=${fromUtf8(kv.value)}`)
        }
      })
    )
  }).pipe(Effect.scoped)

describe("deterministic simulation", () => {
  it.effect(
    "the same seed gives the same run under TestClock",
    () =>
      Effect.gen(function* () {
        const first = yield* run(12345)
        const second = yield* run(12345)
        assert.deepStrictEqual(second, first)
        assert.isDefined(first.leader)
        assert.strictEqual(first.values.length, 15)
        const other = yield* run(777)
        assert.strictEqual(other.values.length, 15)
      }),
    60_000
  )
})
