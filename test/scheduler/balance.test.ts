/** balance-region and balance-leader as pure functions (TinyKV 3C balance scenarios). */
import { assert, describe, it } from "@effect/vitest"
import { peerId, storeId } from "../../src/protocol/ids.js"
import { balanceLeader } from "../../src/scheduler/balanceLeader.js"
import { balanceRegion } from "../../src/scheduler/balanceRegion.js"
import type { OperatorStep } from "../../src/scheduler/operator.js"
import { counter, mkView, ri, sv } from "./viewFixtures.js"

const s = storeId
const move = (from: number, to: number, leads = false): ReadonlyArray<OperatorStep> => [
  { _tag: "AddPeer", toStore: s(to), peerId: peerId(1000) },
  ...(leads ? [{ _tag: "TransferLeader" as const, fromStore: s(from), toStore: s(to) }] : []),
  { _tag: "RemovePeer", fromStore: s(from) }
]

describe("balance-region", () => {
  it("moves a replica from the fullest store to the emptiest one not holding the region", () => {
    const stores = [
      sv(1, { regionSize: 10 }),
      sv(2, { regionSize: 6 }),
      sv(3, { regionSize: 5 }),
      sv(4, { regionSize: 1 })
    ]
    const regions = [ri(1, [1, 2, 3], { leaderStore: 2 })]
    const p = balanceRegion(mkView(stores, regions), counter())
    assert.strictEqual(p?.kind, "balance-region")
    assert.strictEqual(p?.regionId, 1)
    assert.deepStrictEqual(p?.steps, move(1, 4))
  })

  it("a region the source leads hands its leadership to the new replica before the source's is removed", () => {
    const stores = [sv(1, { regionSize: 10 }), sv(2, { regionSize: 6 }), sv(3, { regionSize: 5 }), sv(4)]
    const p = balanceRegion(mkView(stores, [ri(1, [1, 2, 3], { leaderStore: 1 })]), counter())
    assert.deepStrictEqual(p?.steps, move(1, 4, true))
  })

  it("tolerance: only when source − target > 2 × the region's size (no ping-pong)", () => {
    const at = (src: number, dst: number, size: number) =>
      balanceRegion(
        mkView(
          [
            sv(1, { regionSize: src }),
            sv(2, { regionSize: src }),
            sv(3, { regionSize: src }),
            sv(4, { regionSize: dst })
          ],
          [ri(1, [1, 2, 3], { size, leaderStore: 2 })]
        ),
        counter()
      )
    assert.isUndefined(at(4, 2, 1), "difference 2 = 2 × 1 MiB: not enough")
    assert.isDefined(at(5, 2, 1), "difference 3 > 2 × 1 MiB")
    assert.isUndefined(at(40, 20, 10), "difference 20 = 2 × 10 MiB")
    assert.isDefined(at(41, 20, 10))
  })

  it("prefers the region whose replica on the source is pending (TestReplacePendingRegion3C)", () => {
    const stores = [sv(1, { regionSize: 8 }), sv(2, { regionSize: 6 }), sv(3, { regionSize: 6 }), sv(4)]
    const regions = [1, 2, 3, 4].map((id) => ri(id, [1, 2, 3], { pendingStores: id === 3 ? [1] : [] }))
    const p = balanceRegion(mkView(stores, regions), counter())
    assert.strictEqual(p?.regionId, 3)
    assert.deepStrictEqual(p?.steps, move(1, 4, true))
  })

  it("skips regions with a pending replica on another store, busy regions, and regions not at maxReplicas", () => {
    // only store 1 is far enough above store 4 to be a source
    const stores = [sv(1, { regionSize: 8 }), sv(2, { regionSize: 2 }), sv(3, { regionSize: 2 }), sv(4)]
    const pendingElsewhere = ri(1, [1, 2, 3], { leaderStore: 2, pendingStores: [2] })
    const busy = ri(2, [1, 2, 3], { leaderStore: 2 })
    const short = ri(3, [1, 2], { leaderStore: 2 })
    assert.isUndefined(balanceRegion(mkView(stores, [pendingElsewhere, busy, short], {}, [2]), counter()))
    const fine = ri(4, [1, 2, 3], { leaderStore: 2 })
    assert.strictEqual(
      balanceRegion(mkView(stores, [pendingElsewhere, busy, short, fine], {}, [2]), counter())?.regionId,
      4
    )
  })

  it("only Up stores with room take part, as source or target", () => {
    const regions = [ri(1, [1, 2, 3], { leaderStore: 2 })]
    const base = [sv(2, { regionSize: 5 }), sv(3, { regionSize: 5 })]
    for (const status of ["Disconnected", "Down", "Offline", "Tombstone"] as const) {
      assert.isUndefined(
        balanceRegion(mkView([sv(1, { regionSize: 10 }), ...base, sv(4, { status })], regions), counter()),
        `target ${status}`
      )
      // a silent fullest store is not drained by balancing (the replica checker owns dead stores)
      assert.isUndefined(
        balanceRegion(
          mkView([sv(1, { regionSize: 10, status }), ...base, sv(4, { regionSize: 4 })], regions),
          counter()
        ),
        `source ${status}`
      )
    }
    assert.isUndefined(
      balanceRegion(mkView([sv(1, { regionSize: 10 }), ...base, sv(4, { operatorCount: 4 })], regions), counter())
    )
  })

  it("a balanced cluster gets no operator", () => {
    const stores = [1, 2, 3, 4].map((i) => sv(i, { regionSize: 3 }))
    const regions = [ri(1, [1, 2, 3]), ri(2, [2, 3, 4]), ri(3, [3, 4, 1]), ri(4, [4, 1, 2])]
    assert.isUndefined(balanceRegion(mkView(stores, regions), counter()))
  })
})

describe("balance-leader", () => {
  it("moves a leader from the store with the most leaders to the follower store with the fewest", () => {
    const stores = [sv(1, { leaderCount: 3 }), sv(2, { leaderCount: 1 }), sv(3, { leaderCount: 0 })]
    const regions = [1, 2, 3].map((id) => ri(id, [1, 2, 3], { leaderStore: 1 }))
    const p = balanceLeader(mkView(stores, regions))
    assert.strictEqual(p?.kind, "balance-leader")
    assert.deepStrictEqual(p?.steps, [{ _tag: "TransferLeader", fromStore: s(1), toStore: s(3) }])
  })

  it("tolerance: a difference of 1 is left alone (moving would only swap it)", () => {
    const stores = [sv(1, { leaderCount: 1 }), sv(2), sv(3)]
    assert.isUndefined(balanceLeader(mkView(stores, [ri(1, [1, 2, 3])])))
  })

  it("never to a pending follower, a store that is not Up, or for a busy region", () => {
    const stores = [sv(1, { leaderCount: 4 }), sv(2, { status: "Disconnected" }), sv(3)]
    const pending = ri(1, [1, 2, 3], { pendingStores: [3] })
    assert.isUndefined(balanceLeader(mkView(stores, [pending])))
    const busy = ri(2, [1, 2, 3])
    assert.isUndefined(balanceLeader(mkView(stores, [pending, busy], {}, [2])))
    const ok = ri(3, [1, 2, 3])
    assert.deepStrictEqual(balanceLeader(mkView(stores, [pending, busy, ok], {}, [2]))?.regionId, 3)
  })
})
