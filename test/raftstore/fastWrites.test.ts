/**
 * The fast lane's writes (`src/server/fastWrites.ts`) over a replicated store: a `RawPut` started in one call
 * through `KvStorage.writeNow` → `Router.sendCommandNow` is answered from its callback, once — applied on the
 * leader, refused by a follower with its region error (what the handler would answer), timed out by the
 * command deadline when no quorum is left — and refused at once (false, nothing written) when the region has
 * no peer here or the request would not validate, so the handler answers it instead.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { layerKvStorageRaft } from "../../src/layers/kvStorageRaft.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { KvError } from "../../src/protocol/errorpb.js"
import type { RegionId, StoreId } from "../../src/protocol/ids.js"
import type * as Kv from "../../src/protocol/kvrpc.js"
import { MAX_VALUE_SIZE } from "../../src/protocol/limits.js"
import type { Peer } from "../../src/protocol/metapb.js"
import { makeFastWrites } from "../../src/server/fastWrites.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { Router } from "../../src/services/Router.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { REGION_1, waitStableLeader } from "./helpers.js"

/** The fast writes of `storeId`'s store, as its server builds them, with `commandTimeoutMs`. */
const fastWritesOf = (cluster: TestCluster, storeId: StoreId, commandTimeoutMs: number) =>
  Effect.gen(function* () {
    const store = cluster.store(storeId)
    if (store === undefined) return yield* Effect.dieMessage(`store ${storeId} is not running`)
    const ctx = yield* Layer.build(
      layerKvStorageRaft({ commandTimeoutMs }).pipe(
        Layer.provide(Layer.merge(Layer.succeed(Router, store.router), cluster.storageLayer(storeId)))
      )
    )
    return makeFastWrites(Context.get(ctx, KvStorage))
  })

const contextFor = (cluster: TestCluster, peer: Peer): Kv.Context => {
  const region = cluster.store(peer.storeId)!.peers.get(REGION_1)!.region
  return { regionId: REGION_1, regionEpoch: region.regionEpoch, peer }
}

/** Starts a put; the outcomes its callback gave (an array, to see it is called once). */
const put = (
  writes: Effect.Effect.Success<ReturnType<typeof fastWritesOf>>,
  context: Kv.Context,
  key: string,
  value: string | Uint8Array = "v"
) => {
  const outcomes: Array<KvError | undefined> = []
  const started = writes.RawPut(
    { context, key: utf8(key), value: typeof value === "string" ? utf8(value) : value, cf: "default" },
    (error) => outcomes.push(error)
  )
  return { started, outcomes }
}

describe("fast writes on a replicated store", () => {
  it.scopedLive(
    "the leader applies and answers once; a follower answers NotLeader; no peer or bad input: not started",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const cluster = yield* TestCluster.make({ stores: 3, seed })
        yield* cluster.start
        const leader = yield* waitStableLeader(cluster)
        const onLeader = yield* fastWritesOf(cluster, leader.storeId as StoreId, 5_000)

        const ok = put(onLeader, contextFor(cluster, leader), "fast")
        assert.isTrue(ok.started, `seed ${seed}`)
        yield* eventually(() => ok.outcomes.length > 0, { timeout: "10 seconds", what: "the leader's answer" })
        assert.deepStrictEqual(ok.outcomes, [undefined], `seed ${seed}: applied, answered once`)
        yield* cluster.mustGet("fast", "v")

        const follower = cluster
          .store(leader.storeId as StoreId)!
          .peers.get(REGION_1)!
          .region.peers.find((p) => p.storeId !== leader.storeId)!
        const onFollower = yield* fastWritesOf(cluster, follower.storeId as StoreId, 5_000)
        const refused = put(onFollower, contextFor(cluster, follower), "not-here")
        assert.isTrue(refused.started)
        yield* eventually(() => refused.outcomes.length > 0, { timeout: "10 seconds", what: "the follower's answer" })
        assert.strictEqual(refused.outcomes[0]?._tag, "NotLeader", `seed ${seed}`)
        assert.strictEqual(refused.outcomes.length, 1)

        const elsewhere = put(onLeader, { ...contextFor(cluster, leader), regionId: 99 as RegionId }, "k")
        assert.isFalse(elsewhere.started, "no peer of that region here: the handler answers")
        assert.isFalse(put(onLeader, contextFor(cluster, leader), "").started, "an empty key: the handler refuses it")
        assert.isFalse(
          put(onLeader, contextFor(cluster, leader), "big", new Uint8Array(MAX_VALUE_SIZE + 1)).started,
          "an oversized value"
        )
        assert.deepStrictEqual([elsewhere.outcomes.length], [0])
      })
  )

  it.scopedLive("a write that cannot commit (no quorum) is answered by the command deadline", () =>
    Effect.gen(function* () {
      const seed = testSeed()
      const cluster = yield* TestCluster.make({ stores: 3, seed })
      yield* cluster.start
      const leader = yield* waitStableLeader(cluster)
      const onLeader = yield* fastWritesOf(cluster, leader.storeId as StoreId, 300)
      yield* cluster.isolate(leader.storeId)
      const stuck = put(onLeader, contextFor(cluster, leader), "stuck")
      assert.isTrue(stuck.started, `seed ${seed}`)
      yield* eventually(() => stuck.outcomes.length > 0, { timeout: "10 seconds", what: "the deadline's answer" })
      const error = stuck.outcomes[0]
      // the isolated leader may also step down first (NotLeader); either way the caller hears once
      assert.include(["ServerIsBusy", "NotLeader"], error?._tag, `seed ${seed}`)
      if (error?._tag === "ServerIsBusy") assert.isTrue(error.outcomeUnknown, "a timed-out write may still apply")
      assert.strictEqual(stuck.outcomes.length, 1)
    })
  )
})
