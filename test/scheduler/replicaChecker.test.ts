/** The replica checker as a pure function (TinyKV 3C / PD replica checker scenarios). */
import { assert, describe, it } from "@effect/vitest"
import { peerId, storeId } from "../../src/protocol/ids.js"
import type { StoreStatus } from "../../src/protocol/scheduler.js"
import type { RegionInfo } from "../../src/scheduler/regionInfo.js"
import { checkReplicas } from "../../src/scheduler/replicaChecker.js"
import { counter, mkView, ri, sv } from "./viewFixtures.js"

/** The region after the proposal's single step is applied. */
const apply = (info: RegionInfo, step: ReturnType<typeof checkReplicas>): RegionInfo => {
  const s = step!.steps[0]!
  const peers =
    s._tag === "AddPeer"
      ? [...info.region.peers, { id: s.peerId, storeId: s.toStore }]
      : s._tag === "RemovePeer"
        ? info.region.peers.filter((p) => p.storeId !== s.fromStore)
        : info.region.peers
  return { ...info, region: { ...info.region, peers } }
}

describe("replica checker", () => {
  for (const max of [1, 3, 5]) {
    it(`maxReplicas ${max}: adds replicas one at a time up to ${max}, on the stores with the fewest regions, then stops (TestReplicas${max}_3C)`, () => {
      // store i holds i regions: placement goes to the emptiest store first
      const stores = [1, 2, 3, 4, 5, 6].map((i) => sv(i, { regionCount: i }))
      let info = ri(1, [6])
      const added: Array<number> = []
      const next = counter()
      for (let i = 0; i < 10; i++) {
        const p = checkReplicas(mkView(stores, [info], { maxReplicas: max }), info, next)
        if (p === undefined) break
        assert.strictEqual(p.kind, "replica")
        assert.strictEqual(p.steps.length, 1)
        const step = p.steps[0]!
        assert.strictEqual(step._tag, "AddPeer")
        if (step._tag === "AddPeer") added.push(step.toStore)
        info = apply(info, p)
      }
      assert.deepStrictEqual(added, [1, 2, 3, 4, 5].slice(0, max - 1))
      assert.strictEqual(info.region.peers.length, max)
    })
  }

  it("more replicas than maxReplicas: removes one, never the leader, a dead or draining store's first", () => {
    const stores = [sv(1), sv(2, { regionCount: 9 }), sv(3, { status: "Offline" }), sv(4, { status: "Disconnected" })]
    const info = ri(1, [1, 2, 3, 4])
    const p = checkReplicas(mkView(stores, [info]), info, counter())
    assert.deepStrictEqual(p?.steps, [{ _tag: "RemovePeer", fromStore: storeId(3) }])
    const down = [sv(1), sv(2, { regionCount: 9 }), sv(3), sv(4, { status: "Down" })]
    assert.deepStrictEqual(checkReplicas(mkView(down, [info]), info, counter())?.steps, [
      { _tag: "RemovePeer", fromStore: storeId(4) }
    ])
    // all alive: the busiest non-leader store gives its replica up
    const alive = [sv(1, { regionCount: 20 }), sv(2, { regionCount: 9 }), sv(3, { regionCount: 1 }), sv(4)]
    assert.deepStrictEqual(checkReplicas(mkView(alive, [info]), info, counter())?.steps, [
      { _tag: "RemovePeer", fromStore: storeId(2) }
    ])
  })

  it("a region whose live replicas are not a majority keeps its Down replicas (a store judged Down wrongly keeps its vote)", () => {
    // 3 replicas, 2 on Down stores: removing one would leave 1 live of 2 — no quorum, ever
    const twoDown = [sv(1), sv(2, { status: "Down" }), sv(3, { status: "Down" }), sv(4)]
    const info = ri(1, [1, 2, 3])
    const p = checkReplicas(mkView(twoDown, [info]), info, counter())
    assert.isFalse(p?.steps.some((s) => s._tag === "RemovePeer") ?? false, JSON.stringify(p?.steps))
    // 5 replicas, 4 judged Down at once (the cluster's start): none is removed
    const fiveStores = [sv(1), ...[2, 3, 4, 5].map((i) => sv(i, { status: "Down" }))]
    const five = ri(1, [1, 2, 3, 4, 5])
    assert.isUndefined(checkReplicas(mkView(fiveStores, [five]), five, counter()))
    // one Down of 3: removed (2 live of the 2 left)
    const oneDown = [sv(1), sv(2), sv(3, { status: "Down" }), sv(4)]
    assert.deepStrictEqual(checkReplicas(mkView(oneDown, [info]), info, counter())?.steps, [
      { _tag: "RemovePeer", fromStore: storeId(3) }
    ])
  })

  const deadCases: ReadonlyArray<[StoreStatus, boolean]> = [
    ["Down", true],
    ["Tombstone", true],
    ["Disconnected", false]
  ]
  for (const [status, replaced] of deadCases) {
    it(`a replica on a ${status} store ${replaced ? "does not count: it is removed, then re-created elsewhere" : "still counts"}`, () => {
      const stores = [sv(1), sv(2), sv(3, { status }), sv(4, { regionCount: 5 }), sv(5, { regionCount: 7 })]
      let info = ri(1, [1, 2, 3])
      const p = checkReplicas(mkView(stores, [info]), info, counter())
      if (!replaced) return assert.isUndefined(p)
      assert.deepStrictEqual(p?.steps, [{ _tag: "RemovePeer", fromStore: storeId(3) }])
      info = apply(info, p)
      assert.deepStrictEqual(checkReplicas(mkView(stores, [info]), info, counter())?.steps, [
        { _tag: "AddPeer", toStore: storeId(4), peerId: peerId(1000) }
      ])
    })
  }

  it("a replica on an Offline (draining) store is replaced while it still serves: add elsewhere, then remove it", () => {
    const stores = [sv(1), sv(2), sv(3, { status: "Offline" }), sv(4)]
    let info = ri(1, [1, 2, 3])
    const add = checkReplicas(mkView(stores, [info]), info, counter())
    assert.deepStrictEqual(add?.steps, [{ _tag: "AddPeer", toStore: storeId(4), peerId: peerId(1000) }])
    info = apply(info, add)
    assert.deepStrictEqual(checkReplicas(mkView(stores, [info]), info, counter())?.steps, [
      { _tag: "RemovePeer", fromStore: storeId(3) }
    ])
    // the leader is the one on the Offline store: it hands off to a healthy follower first
    const led = { ...ri(3, [3, 1, 2, 4]), leader: { id: peerId(303), storeId: storeId(3) } }
    assert.deepStrictEqual(checkReplicas(mkView(stores, [led]), led, counter())?.steps, [
      { _tag: "TransferLeader", fromStore: storeId(3), toStore: storeId(1) }
    ])
    // nowhere to move it: it stays
    const alone = ri(2, [1, 2, 3])
    assert.isUndefined(checkReplicas(mkView(stores.slice(0, 3), [alone]), alone, counter()))
  })

  it("the replica checker after a store goes Down: drop the dead replica, then add one on a live store", () => {
    const stores = [sv(1), sv(2), sv(3, { status: "Down" }), sv(4)]
    let info = ri(1, [1, 2, 3])
    const first = checkReplicas(mkView(stores, [info]), info, counter())
    assert.deepStrictEqual(first?.steps, [{ _tag: "RemovePeer", fromStore: storeId(3) }])
    info = apply(info, first)
    const second = checkReplicas(mkView(stores, [info]), info, counter())
    assert.deepStrictEqual(second?.steps, [{ _tag: "AddPeer", toStore: storeId(4), peerId: peerId(1000) }])
    info = apply(info, second)
    assert.isUndefined(checkReplicas(mkView(stores, [info]), info, counter()))
  })

  it("leaves a region alone while one of its replicas is on a store not registered yet (cluster start)", () => {
    const info = ri(1, [1, 2, 3, 4])
    assert.isUndefined(checkReplicas(mkView([sv(2), sv(3), sv(4), sv(5)], [info]), info, counter()))
    const short = ri(2, [1])
    assert.isUndefined(checkReplicas(mkView([sv(2), sv(3)], [short]), short, counter()))
  })

  it("never places on a store that is not Up, already holds the region, or has no room", () => {
    const stores = [
      sv(1),
      sv(2, { status: "Disconnected" }),
      sv(3, { status: "Offline" }),
      sv(4, { status: "Down" }),
      sv(5, { status: "Tombstone" }),
      sv(6, { operatorCount: 4 })
    ]
    const info = ri(1, [1])
    assert.isUndefined(checkReplicas(mkView(stores, [info]), info, counter()))
    const withRoom = [...stores, sv(7, { regionCount: 50 })]
    assert.deepStrictEqual(checkReplicas(mkView(withRoom, [info]), info, counter())?.steps, [
      { _tag: "AddPeer", toStore: storeId(7), peerId: peerId(1000) }
    ])
  })
})
