/** The pure core's scheduling: per-store counts the checkers see, a whole pass, limits, cancellation on heartbeat. */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { peerId } from "../../src/protocol/ids.js"
import { SchedulerCore } from "../../src/scheduler/core.js"
import { emptyState } from "../../src/scheduler/persist.js"
import { placementCandidates } from "../../src/scheduler/replicaChecker.js"
import { get, heartbeat, peer, region, rid, sid, stats, store, withEpoch } from "./fixtures.js"

/** A core with stores 1..n, all heartbeating at `now`, and regions as given (the first bootstraps). */
const coreWith = (n: number, regions: ReadonlyArray<ReturnType<typeof region>>, options = {}, now = 1000) => {
  const core = new SchedulerCore(42, emptyState, { startedMs: 0, ...options })
  get(core.bootstrap(store(1), regions[0]!))
  for (let i = 2; i <= n; i++) get(core.putStore(store(i)))
  for (let i = 1; i <= n; i++) get(core.storeHeartbeat(stats(i), now))
  for (const r of regions) get(core.regionHeartbeat(heartbeat(r), now))
  return core
}

describe("scheduling in the core", () => {
  it("per-store region and leader counts, and a region's stores are never placement targets (TestRegionGetStores3C)", () => {
    const core = coreWith(4, [
      region(1, "", "g", { peers: [peer(11, 1), peer(12, 2), peer(13, 3)] }),
      region(2, "g", "p", { peers: [peer(21, 2), peer(22, 3), peer(23, 4)] }),
      region(3, "p", "", { peers: [peer(31, 4)] })
    ])
    const view = get(core.view(1000))
    assert.deepStrictEqual(
      [...view.stores.values()].map((s) => [s.id, s.status, s.regionCount, s.leaderCount]),
      [
        [1, "Up", 1, 1],
        [2, "Up", 2, 1],
        [3, "Up", 2, 0],
        [4, "Up", 2, 1]
      ]
    )
    const r2 = view.regions.find((r) => r.region.id === 2)!
    assert.deepStrictEqual(
      placementCandidates(view, r2).map((s) => s.id),
      [sid(1)]
    )
  })

  it("a pass adds a replica where one is missing, at most one operator per region, within the replica limit", () => {
    const core = coreWith(
      4,
      [region(1, "", "g", { peers: [peer(11, 1)] }), region(2, "g", "", { peers: [peer(21, 1)] })],
      {
        replicaScheduleLimit: 1
      }
    )
    const first = get(core.schedule(1000))
    assert.deepStrictEqual(
      first.map((p) => [p.regionId, p.kind]),
      [[1, "replica"]]
    )
    // region 1 is busy and the replica limit is reached: nothing more until it finishes
    assert.deepStrictEqual(get(core.schedule(1001)), [])
    assert.strictEqual(get(core.getOperator(rid(1))).status, "RUNNING")
    // the AddPeer goes to store 2 (fewest regions, lowest id); in flight, it already counts there
    assert.strictEqual(get(core.view(1001)).stores.get(2)?.regionCount, 1)
  })

  it("an operator whose region split under it carries on with the left half (its id); a membership change it did not make cancels it", () => {
    const r = region(1, "", "", { peers: [peer(11, 1), peer(12, 2), peer(13, 3)], confVer: 3 })
    const core = coreWith(4, [r])
    get(core.addOperator(rid(1), "move", [{ _tag: "TransferLeader", fromStore: sid(1), toStore: sid(2) }], 1000))
    const split = withEpoch({ ...r, endKey: new TextEncoder().encode("m") }, 3, 2)
    const answer = get(core.regionHeartbeat(heartbeat(split), 1100))
    assert.strictEqual(answer.response?.transferLeader?.peer.storeId, 2)
    assert.strictEqual(get(core.getOperator(rid(1))).status, "RUNNING")
    const grown = withEpoch({ ...split, peers: [...split.peers, peer(14, 4)] }, 4, 2)
    assert.isUndefined(get(core.regionHeartbeat(heartbeat(grown), 1200)).response)
    assert.strictEqual(get(core.getOperator(rid(1))).status, "CANCEL")
    assert.isTrue(Either.isRight(core.listOperators()))
    assert.isFalse(get(core.view(1200)).busyRegions.has(1))
  })

  it("an operator still to add a replica on a store that went Down is cancelled, so the region can be repaired", () => {
    const r = region(1, "", "", { peers: [peer(11, 1), peer(12, 2), peer(13, 3)], confVer: 3 })
    const core = coreWith(4, [r], { maxStoreDownTimeMs: 60_000 })
    get(core.addOperator(rid(1), "move", [{ _tag: "AddPeer", toStore: sid(4), peerId: peerId(99) }], 1000))
    // stores 1-3 keep reporting, store 4 falls silent past --max-store-down-time
    for (const t of [30_000, 61_000, 62_000]) for (const i of [1, 2, 3]) get(core.storeHeartbeat(stats(i), t))
    get(core.schedule(62_000))
    assert.strictEqual(get(core.getOperator(rid(1))).status, "CANCEL")
  })

  it("a deleted (Offline) store is drained, then becomes a Tombstone once it holds nothing", () => {
    const r = region(1, "", "", { peers: [peer(11, 1), peer(12, 2), peer(13, 3)], confVer: 3 })
    const core = coreWith(4, [r])
    get(core.setStoreState(sid(3), "Offline"))
    const add = get(core.schedule(1000))[0]?.steps[0]
    if (add?._tag !== "AddPeer") return assert.fail(`expected an AddPeer, got ${add?._tag}`)
    assert.strictEqual(add.toStore, sid(4))
    const withNew = withEpoch({ ...r, peers: [...r.peers, peer(add.peerId, 4)] }, 4, 1)
    get(core.regionHeartbeat(heartbeat(withNew), 1100))
    assert.deepStrictEqual(get(core.schedule(1200))[0]?.steps, [{ _tag: "RemovePeer", fromStore: sid(3) }])
    const drained = withEpoch({ ...withNew, peers: withNew.peers.filter((p) => p.storeId !== 3) }, 5, 1)
    get(core.regionHeartbeat(heartbeat(drained), 1300))
    get(core.schedule(1400))
    assert.strictEqual(get(core.getStore(sid(3))).store.state, "Tombstone")
  })

  it("stores silent past max-store-down-time are Down in the view; their replicas are removed, then replaced", () => {
    const r = region(1, "", "", { peers: [peer(11, 1), peer(12, 2), peer(13, 3)], confVer: 3 })
    const core = coreWith(4, [r], { maxStoreDownTimeMs: 60_000 })
    for (const id of [1, 2, 4]) get(core.storeHeartbeat(stats(id), 61_500))
    assert.strictEqual(get(core.view(61_500)).stores.get(3)?.status, "Down")
    const pass = get(core.schedule(61_500))
    assert.deepStrictEqual(pass[0]?.steps, [{ _tag: "RemovePeer", fromStore: sid(3) }])
  })
})
