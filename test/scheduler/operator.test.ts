/** Operators: cancelled when the region moves on without them, split steps, timeouts, the controller's bookkeeping. */
import { assert, describe, it } from "@effect/vitest"
import { peerId, storeId } from "../../src/protocol/ids.js"
import {
  dispatch,
  LEADER_OPERATOR_TIMEOUT_MS,
  makeOperator,
  OPERATOR_TIMEOUT_MS,
  type OperatorStep
} from "../../src/scheduler/operator.js"
import { OperatorController } from "../../src/scheduler/operatorController.js"
import type { RegionInfo } from "../../src/scheduler/regionInfo.js"
import { ri } from "./viewFixtures.js"

const addOn4: OperatorStep = { _tag: "AddPeer", toStore: storeId(4), peerId: peerId(999) }
const removeFrom1: OperatorStep = { _tag: "RemovePeer", fromStore: storeId(1) }

const bump = (info: RegionInfo, confVer: number, version: number, peers = info.region.peers): RegionInfo => ({
  ...info,
  region: { ...info.region, regionEpoch: { confVer, version }, peers }
})
const withPeer4 = (info: RegionInfo) => [...info.region.peers, { id: peerId(999), storeId: storeId(4) }]

describe("operator dispatch", () => {
  const base = ri(1, [1, 2, 3], { leaderStore: 2 })
  const op = makeOperator("balance-region", "move 1→4", [addOn4, removeFrom1], base.region.regionEpoch, 0)

  it("runs its steps in order and succeeds when the region shows them done", () => {
    const first = dispatch(op, base, 1)
    assert.strictEqual(first._tag, "Running")
    if (first._tag !== "Running") return
    assert.deepStrictEqual(first.response?.changePeer, {
      peer: { id: peerId(999), storeId: storeId(4) },
      changeType: "AddNode"
    })
    // the new peer is there but still pending: its own ConfVer bump explains the epoch, keep waiting
    const added = { ...bump(base, 4, 1, withPeer4(base)), pendingPeers: [{ id: peerId(999), storeId: storeId(4) }] }
    const waiting = dispatch(first.operator, added, 2)
    assert.strictEqual(waiting._tag, "Running")
    const caughtUp = bump(base, 4, 1, withPeer4(base))
    const second = dispatch(first.operator, caughtUp, 3)
    assert.strictEqual(second._tag === "Running" && second.response?.changePeer?.changeType, "RemoveNode")
    const removed = bump(
      base,
      5,
      1,
      withPeer4(base).filter((p) => p.storeId !== 1)
    )
    assert.deepStrictEqual(dispatch(first.operator, removed, 4), { _tag: "Finished", status: "SUCCESS", next: 2 })
  })

  it("carries on when the region split under it (version): the step goes out with the new epoch", () => {
    const d = dispatch(op, bump(base, 3, 2), 1)
    assert.strictEqual(d._tag, "Running")
    assert.strictEqual(d._tag === "Running" && d.response?.changePeer?.changeType, "AddNode")
    assert.deepStrictEqual(d._tag === "Running" && d.response?.regionEpoch, bump(base, 3, 2).region.regionEpoch)
  })

  it("is cancelled by a membership change its steps do not explain (ConfVer)", () => {
    // someone else added a peer on store 5: ConfVer +1, but not our AddPeer
    const other = bump(base, 4, 1, [...base.region.peers, { id: peerId(555), storeId: storeId(5) }])
    const d = dispatch(op, other, 1)
    assert.isTrue(d._tag === "Finished" && d.status === "CANCEL")
  })

  it("a split step is done when the region's version moves on", () => {
    const split = makeOperator("split", "split", [{ _tag: "SplitRegion", keys: [] }], base.region.regionEpoch, 0)
    const d0 = dispatch(split, base, 1)
    assert.isTrue(d0._tag === "Running" && d0.response?.splitRegion !== undefined)
    assert.deepStrictEqual(dispatch(split, bump(base, 3, 2), 2), { _tag: "Finished", status: "SUCCESS", next: 1 })
  })

  it("times out: 10 min for replica moves, 10 s for leader transfers", () => {
    assert.isTrue(dispatch(op, base, OPERATOR_TIMEOUT_MS - 1)._tag === "Running")
    const late = dispatch(op, base, OPERATOR_TIMEOUT_MS + 1)
    assert.isTrue(late._tag === "Finished" && late.status === "TIMEOUT")
    const leader = makeOperator(
      "balance-leader",
      "t",
      [{ _tag: "TransferLeader", fromStore: storeId(2), toStore: storeId(3) }],
      base.region.regionEpoch,
      0
    )
    const d = dispatch(leader, base, LEADER_OPERATOR_TIMEOUT_MS + 1)
    assert.isTrue(d._tag === "Finished" && d.status === "TIMEOUT")
  })
})

describe("operator controller", () => {
  const base = ri(1, [1, 2, 3], { leaderStore: 2 })
  const mk = (desc: string) =>
    makeOperator(
      "admin",
      desc,
      [{ _tag: "TransferLeader", fromStore: storeId(2), toStore: storeId(3) }],
      base.region.regionEpoch,
      0
    )

  it("one operator per region: a second replaces the first (REPLACE); finished ones stay visible", () => {
    const c = new OperatorController()
    c.add(1, mk("first"))
    c.add(1, mk("second"))
    assert.deepStrictEqual(
      c.drainEvents().map((e) => `${e.op.desc}:${e.status}`),
      ["first:RUNNING", "first:REPLACE", "second:RUNNING"]
    )
    assert.strictEqual(c.get(1)?.desc, "second")
    assert.isUndefined(c.dispatch({ ...base, leader: base.region.peers[2] }, 1))
    assert.deepStrictEqual([c.get(1)?.status, c.get(1)?.currentStep], ["SUCCESS", 1])
    assert.strictEqual(c.operators.size, 0)
  })

  it("expires operators past their deadline or whose region is gone", () => {
    const c = new OperatorController()
    c.add(1, mk("a"))
    c.add(2, mk("b"))
    c.expire(1, (id) => id !== 2)
    assert.strictEqual(c.get(2)?.status, "CANCEL")
    assert.strictEqual(c.get(1)?.status, "RUNNING")
    c.expire(LEADER_OPERATOR_TIMEOUT_MS + 1, () => true)
    assert.strictEqual(c.get(1)?.status, "TIMEOUT")
    assert.deepStrictEqual(
      c.list().map((o) => [o.regionId, o.status]),
      [
        [1, "TIMEOUT"],
        [2, "CANCEL"]
      ]
    )
  })
})
