/**
 * The coordinator loop and store states under `TestClock`: passes run on the Effect clock, their
 * operators go out in region heartbeat answers, and a store that stops heartbeating becomes
 * Disconnected, then Down, and its replica is replaced. Deterministic: time only moves when the
 * test moves it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Either, Layer, Option, TestClock } from "effect"
import type { Region } from "../../src/protocol/metapb.js"
import type { RegionHeartbeatResponse, StoreStatus } from "../../src/protocol/scheduler.js"
import { layerScheduler } from "../../src/layers/schedulerServer.js"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { layerCoordinator } from "../../src/scheduler/coordinator.js"
import { Scheduler } from "../../src/scheduler/service.js"
import { storeStatus } from "../../src/scheduler/storeState.js"
import { heartbeat, peer, region, sid, stats, store } from "./fixtures.js"

const header = { clusterId: 0 }

const start = (options: { maxReplicas?: number; maxStoreDownTimeMs?: number } = {}) =>
  Effect.gen(function* () {
    const layer = layerCoordinator("1 second").pipe(
      Layer.provideMerge(layerScheduler(options)),
      Layer.provide(layerMemoryFrom(new MemoryEngine()))
    )
    const s = Context.get(yield* Layer.build(layer), Scheduler)
    yield* s.bootstrap({ header, store: store(1), region: region(1, "", "", { peers: [peer(11, 1)] }) })
    for (const id of [2, 3, 4]) yield* s.putStore({ header, store: store(id) })
    const beat = (ids: ReadonlyArray<number>) =>
      Effect.forEach(ids, (id) => s.storeHeartbeat({ header, stats: stats(id) }), { discard: true })
    const statuses = Effect.map(s.getAllStores({ header, excludeTombstoneStores: false }), (r) =>
      r.details.map((d) => d.status)
    )
    return { s, beat, statuses }
  })

/** What a leader does with the answer: apply the conf change (one peer, ConfVer + 1). */
const applyStep = (r: Region, step: RegionHeartbeatResponse): Region => {
  const cp = step.changePeer
  if (cp === undefined) return r
  const peers = cp.changeType === "AddNode" ? [...r.peers, cp.peer] : r.peers.filter((p) => p.id !== cp.peer.id)
  return { ...r, peers, regionEpoch: { ...r.regionEpoch, confVer: r.regionEpoch.confVer + 1 } }
}

describe("store states", () => {
  const cfg = { storeDisconnectMs: 20_000, maxStoreDownTimeMs: 60_000 }
  const at = (last: number, now: number, state: "Up" | "Offline" | "Tombstone" = "Up"): StoreStatus =>
    storeStatus({ store: { ...store(1), state }, lastHeartbeatMs: last }, now, 0, cfg)

  it("Up → Disconnected after 20 s of silence → Down after max-store-down-time; Offline/Tombstone from the admin", () => {
    assert.deepStrictEqual(
      [at(1000, 20_999), at(1000, 21_000), at(1000, 60_999), at(1000, 61_000)],
      ["Up", "Disconnected", "Disconnected", "Down"]
    )
    assert.deepStrictEqual([at(1000, 2000, "Offline"), at(1000, 61_000, "Offline")], ["Offline", "Down"])
    assert.strictEqual(at(1000, 2000, "Tombstone"), "Tombstone")
    // a store not heard from since the scheduler started counts from the start, not from 1970
    assert.strictEqual(storeStatus({ store: store(1), lastHeartbeatMs: 0 }, 5_000_000, 4_990_000, cfg), "Up")
  })

  it.scoped("through the service, driven by TestClock", () =>
    Effect.gen(function* () {
      const { s, beat, statuses } = yield* start({ maxStoreDownTimeMs: 60_000 })
      yield* beat([1, 2, 3, 4])
      assert.deepStrictEqual(yield* statuses, ["Up", "Up", "Up", "Up"])
      yield* TestClock.adjust("19 seconds")
      yield* beat([1, 2])
      assert.deepStrictEqual(yield* statuses, ["Up", "Up", "Up", "Up"])
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(yield* statuses, ["Up", "Up", "Disconnected", "Disconnected"])
      yield* beat([4])
      yield* s.setStoreState(sid(2), "Tombstone")
      yield* TestClock.adjust("40 seconds")
      assert.deepStrictEqual(yield* statuses, ["Disconnected", "Tombstone", "Down", "Disconnected"])
      yield* beat([1, 3])
      assert.deepStrictEqual(yield* statuses, ["Up", "Tombstone", "Up", "Disconnected"])
      const details = (yield* s.getAllStores({ header, excludeTombstoneStores: true })).details
      assert.deepStrictEqual(
        details.map((d) => [d.store.id, d.regionCount, d.stats?.capacity, d.lastHeartbeatMs]),
        [
          [1, 1, 100, 61_000],
          [3, 0, 100, 61_000],
          [4, 0, 100, 21_000]
        ]
      )
    })
  )
})

describe("coordinator", () => {
  it.scoped("brings a region to max-replicas, then replaces the replica on a store that went Down", () =>
    Effect.gen(function* () {
      const { s, beat, statuses } = yield* start({ maxReplicas: 3, maxStoreDownTimeMs: 60_000 })
      let r = region(1, "", "", { peers: [peer(11, 1)] })
      const report = Effect.suspend(() => s.regionHeartbeat({ header, ...heartbeat(r, r.peers[0]) }))
      /** One heartbeat; applies the step it answers with, and reports again so the operator sees it done. */
      const follow = Effect.gen(function* () {
        const step = yield* report
        if (Option.isNone(step)) return undefined
        r = applyStep(r, step.value)
        yield* report
        return step.value
      })
      yield* beat([1, 2, 3, 4])
      assert.isUndefined(yield* follow, "no pass yet since bootstrap")

      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual((yield* follow)?.changePeer?.peer.storeId, sid(2))
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual((yield* follow)?.changePeer?.peer.storeId, sid(3))
      yield* TestClock.adjust("1 second")
      assert.isUndefined(yield* follow, "three replicas: nothing to do")
      assert.deepStrictEqual(
        (yield* s.listOperators({ header })).operators.map((o) => [o.regionId, o.kind, o.status]),
        [[1, "replica", "SUCCESS"]]
      )

      // store 3 goes silent; everyone else keeps heartbeating
      for (let t = 0; t < 6; t++) {
        yield* TestClock.adjust("10 seconds")
        yield* beat([1, 2, 4])
        if (t < 5) assert.isUndefined(yield* follow)
      }
      assert.deepStrictEqual(yield* statuses, ["Up", "Up", "Down", "Up"])
      // the pass after store 3 went Down removes its replica; the next adds one on store 4
      const removal = yield* s.inspect((c) => c.operators.get(1))
      assert.strictEqual(removal?.status, "RUNNING")
      assert.deepStrictEqual(removal?.steps, [{ _tag: "RemovePeer", fromStore: sid(3) }])
      const removed = yield* follow
      assert.deepStrictEqual(
        [removed?.changePeer?.changeType, removed?.changePeer?.peer.storeId],
        ["RemoveNode", sid(3)]
      )
      yield* TestClock.adjust("1 second")
      const added = yield* follow
      assert.deepStrictEqual([added?.changePeer?.changeType, added?.changePeer?.peer.storeId], ["AddNode", sid(4)])
      assert.deepStrictEqual(
        r.peers.map((p) => p.storeId as number),
        [1, 2, 4]
      )
    })
  )

  it.scoped("an operator in flight counts in the view: the target store already holds the region there", () =>
    Effect.gen(function* () {
      const { s, beat } = yield* start()
      yield* beat([1, 2, 3, 4])
      yield* s.regionHeartbeat({ header, ...heartbeat(region(1, "", "", { peers: [peer(11, 1)] }), peer(11, 1)) })
      yield* TestClock.adjust("1 second")
      const view = yield* s.inspect((c) => Either.getOrThrow(c.view(1000)))
      assert.deepStrictEqual(
        [...view.stores.values()].map((v) => [v.id, v.regionCount, v.operatorCount]),
        [
          [1, 1, 0],
          [2, 1, 1],
          [3, 0, 0],
          [4, 0, 0]
        ]
      )
      assert.isTrue(view.busyRegions.has(1))
    })
  )
})
