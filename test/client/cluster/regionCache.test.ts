/** The region cache and the store address cache against an in-memory fake scheduler (no network). */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { makeRegionCache } from "../../../src/client/cluster/regionCache.js"
import { makeStoreAddresses } from "../../../src/client/cluster/storeAddresses.js"
import { fromUtf8, utf8 } from "../../../src/protocol/bytes.js"
import { regionId, storeId } from "../../../src/protocol/ids.js"
import { SchedulerClient } from "../../../src/services/SchedulerClient.js"
import { fakeScheduler, makeRegion, peerOf, Topology } from "./fakeCluster.js"

/** Three regions: ["", "g") on stores 1-3 led by 1, ["g", "p") led by 2, ["p", "") led by 3. */
const threeRegions = () => {
  const t = new Topology()
  t.setRegion(makeRegion(1, "", "g", [1, 2, 3]), 1)
  t.setRegion(makeRegion(2, "g", "p", [1, 2, 3]), 2)
  t.setRegion(makeRegion(3, "p", "", [1, 2, 3]), 3)
  return t
}

/** A cache over the fake scheduler, obtained through its service layer. */
const cacheOver = (t: Topology) =>
  Effect.map(SchedulerClient, (scheduler) => makeRegionCache(scheduler)).pipe(
    Effect.provide(Layer.succeed(SchedulerClient, fakeScheduler(t)))
  )

const locateId = (cache: ReturnType<typeof makeRegionCache>, key: string) =>
  Effect.map(cache.locate(utf8(key)), (r) => ({ region: r.region.id as number, store: r.peer.storeId as number }))

describe("region cache", () => {
  it.effect("finds the region holding each key, asking the scheduler once per region", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const cache = yield* cacheOver(t)
      assert.deepStrictEqual(yield* locateId(cache, "a"), { region: 1, store: 1 })
      assert.deepStrictEqual(yield* locateId(cache, "g"), { region: 2, store: 2 }, "a start key belongs to its region")
      assert.deepStrictEqual(yield* locateId(cache, "f\xff"), { region: 1, store: 1 })
      assert.deepStrictEqual(yield* locateId(cache, "p"), { region: 3, store: 3 }, "an end key belongs to the next")
      assert.deepStrictEqual(yield* locateId(cache, "zzzz"), { region: 3, store: 3 }, "an empty end key is unbounded")
      assert.deepStrictEqual(yield* locateId(cache, ""), { region: 1, store: 1 })
      assert.strictEqual(t.schedulerCalls.getRegion, 3)
      // all cached now: no more scheduler calls, in any order
      for (const k of ["o", "b", "q", "h", ""]) yield* locateId(cache, k)
      assert.strictEqual(t.schedulerCalls.getRegion, 3)
      assert.deepStrictEqual(
        cache.regions().map((r) => [fromUtf8(r.region.startKey), fromUtf8(r.region.endKey)]),
        [
          ["", "g"],
          ["g", "p"],
          ["p", ""]
        ],
        "kept in key order"
      )
    })
  )

  it.effect("an invalidated region is asked of the scheduler again; the others stay", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const cache = yield* cacheOver(t)
      for (const k of ["a", "h", "q"]) yield* locateId(cache, k)
      cache.invalidate(regionId(2))
      t.setRegion(makeRegion(2, "g", "p", [1, 2, 3], { confVer: 2 }), 1)
      assert.deepStrictEqual(yield* locateId(cache, "a"), { region: 1, store: 1 })
      assert.strictEqual(t.schedulerCalls.getRegion, 3)
      assert.deepStrictEqual(yield* locateId(cache, "h"), { region: 2, store: 1 }, "the scheduler's new leader")
      assert.strictEqual(t.schedulerCalls.getRegion, 4)
    })
  )

  it.effect("EpochNotMatch: the store's current regions replace the split one, without the scheduler", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const cache = yield* cacheOver(t)
      yield* locateId(cache, "h")
      const left = makeRegion(2, "g", "k", [1, 2, 3], { version: 2 })
      const right = makeRegion(4, "k", "p", [1, 2, 3], { version: 2 })
      assert.isTrue(cache.onEpochNotMatch(regionId(2), [left, right], storeId(2)))
      const calls = t.schedulerCalls.getRegion
      const h = yield* cache.locate(utf8("h"))
      const m = yield* cache.locate(utf8("m"))
      assert.strictEqual(t.schedulerCalls.getRegion, calls)
      assert.deepStrictEqual([h.region.id as number, h.region.regionEpoch.version], [2, 2])
      assert.deepStrictEqual([m.region.id as number, m.region.regionEpoch.version], [4, 2])
      assert.strictEqual(h.peer.storeId as number, 2, "the answering store leads the shrunk region")
      assert.strictEqual(m.peer.storeId as number, 2, "and probably the new one")
      // the old, wider region (version 1) never comes back over the newer halves
      assert.isFalse(cache.insert(makeRegion(2, "g", "p", [1, 2, 3])))
      assert.isFalse(cache.onEpochNotMatch(regionId(2), [makeRegion(2, "g", "p", [1, 2, 3])], storeId(2)))
      assert.strictEqual((yield* cache.locate(utf8("m"))).region.id as number, 4)
    })
  )

  it.effect("a stale scheduler answer is used once but not cached over newer regions", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const cache = yield* cacheOver(t)
      // the cache knows the right half of a split the scheduler has not heard of
      cache.insert(makeRegion(4, "k", "p", [1, 2, 3], { version: 2 }), peerOf(4, 2))
      const route = yield* cache.locate(utf8("h"))
      assert.deepStrictEqual([route.region.id as number, route.region.regionEpoch.version], [2, 1])
      assert.deepStrictEqual(
        cache.regions().map((r) => r.region.id as number),
        [4],
        "the stale wide region was not cached"
      )
    })
  )

  it.effect("NotLeader hints move the leader; an unknown leader reloads the region", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const cache = yield* cacheOver(t)
      yield* locateId(cache, "a")
      assert.isTrue(cache.onNotLeader(regionId(1), peerOf(1, 3)))
      assert.deepStrictEqual(yield* locateId(cache, "a"), { region: 1, store: 3 })
      assert.isFalse(cache.onNotLeader(regionId(1), peerOf(1, 3)), "the same hint again changes nothing")
      // a leader that is not a member we know: our peer list is stale
      assert.isFalse(cache.onNotLeader(regionId(1), peerOf(1, 4)))
      assert.isUndefined(cache.lookup(utf8("a")))
      assert.deepStrictEqual(yield* locateId(cache, "a"), { region: 1, store: 1 }, "reloaded from the scheduler")
    })
  )

  it.effect("failed peers are skipped in turn; once all failed the region is reloaded", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const cache = yield* cacheOver(t)
      const first = yield* cache.locate(utf8("h"))
      assert.strictEqual(first.peer.storeId as number, 2)
      cache.onPeerFailed(regionId(2), first.peer)
      const second = yield* cache.locate(utf8("h"))
      assert.strictEqual(second.peer.storeId as number, 1, "the leader failed: the first other peer")
      cache.onPeerFailed(regionId(2), second.peer)
      const third = yield* cache.locate(utf8("h"))
      assert.strictEqual(third.peer.storeId as number, 3)
      // a hint from a live store brings a failed peer back
      assert.isTrue(cache.onNotLeader(regionId(2), peerOf(2, 1)))
      assert.strictEqual((yield* cache.locate(utf8("h"))).peer.storeId as number, 1)
      cache.onPeerFailed(regionId(2), peerOf(2, 1))
      cache.onPeerFailed(regionId(2), peerOf(2, 3))
      assert.isUndefined(cache.lookup(utf8("h")), "every peer failed: dropped")
      const calls = t.schedulerCalls.getRegion
      assert.strictEqual((yield* cache.locate(utf8("h"))).peer.storeId as number, 2)
      assert.strictEqual(t.schedulerCalls.getRegion, calls + 1)
    })
  )

  it.effect("while the live peers elect (no leader hint), they are asked in turn and the region stays cached", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const cache = yield* cacheOver(t)
      // the leader (store 2) is lost; the scheduler still names it
      cache.onPeerFailed(regionId(2), (yield* cache.locate(utf8("h"))).peer)
      const calls = t.schedulerCalls.getRegion
      const asked: Array<number> = []
      for (let i = 0; i < 4; i++) {
        const route = yield* cache.locate(utf8("h"))
        asked.push(route.peer.storeId as number)
        cache.onNoLeader(regionId(2), route.peer)
      }
      assert.deepStrictEqual(asked, [1, 3, 1, 3], "the live peers in turn, never the lost leader")
      assert.strictEqual(t.schedulerCalls.getRegion, calls, "the region stayed cached: no scheduler call")
      // a hint ends the round
      assert.isTrue(cache.onNotLeader(regionId(2), peerOf(2, 3)))
      assert.strictEqual((yield* cache.locate(utf8("h"))).peer.storeId as number, 3)
    })
  )

  it.effect("a region without a known leader is routed to its first peer", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [2, 3]), undefined)
      const cache = yield* cacheOver(t)
      assert.deepStrictEqual(yield* locateId(cache, "x"), { region: 1, store: 2 })
    })
  )

  it.effect("no region known for a key fails with NoRegion", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "a", "b", [1]), 1)
      const cache = yield* cacheOver(t)
      const exit = yield* Effect.exit(cache.locate(utf8("c")))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.include(String(exit.cause), "NoRegion")
    })
  )
})

describe("store address cache", () => {
  it.effect("asks the scheduler once per store until the address is forgotten", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.addresses.set(storeId(1), "127.0.0.1:1111")
      const stores = makeStoreAddresses(fakeScheduler(t))
      assert.strictEqual(yield* stores.resolve(storeId(1)), "127.0.0.1:1111")
      assert.strictEqual(yield* stores.resolve(storeId(1)), "127.0.0.1:1111")
      assert.strictEqual(t.schedulerCalls.getStore, 1)
      t.addresses.set(storeId(1), "127.0.0.1:2222")
      stores.forget(storeId(1))
      assert.strictEqual(yield* stores.resolve(storeId(1)), "127.0.0.1:2222")
      assert.strictEqual(t.schedulerCalls.getStore, 2)
      const unknown = yield* Effect.flip(stores.resolve(storeId(9)))
      assert.strictEqual(unknown._tag, "SchedulerError")
      t.addresses.set(storeId(2), "127.0.0.1:3333")
      t.removed.add(2)
      assert.strictEqual((yield* Effect.flip(stores.resolve(storeId(2))))._tag, "StoreRemoved")
    })
  )
})
