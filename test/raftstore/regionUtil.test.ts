/** Region helpers (TinyKV `kv/raftstore/util/util_test.go`). */
import { assert, describe, it } from "@effect/vitest"
import { utf8 } from "../../src/protocol/bytes.js"
import type { Message, MessageType } from "../../src/protocol/eraftpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Region, RegionEpoch } from "../../src/protocol/metapb.js"
import type { AdminRequest, RaftCmdRequest } from "../../src/protocol/raftCmd.js"
import { newMessage } from "../../src/raft/index.js"
import {
  checkKeyInRegion,
  checkRegionEpoch,
  isEpochStale,
  isInitialMsg,
  rangesOverlap
} from "../../src/raftstore/regionUtil.js"

const b = (s: string) => utf8(s)
const region = (start: string, end: string, epoch: RegionEpoch = { confVer: 2, version: 2 }): Region => ({
  id: 1 as RegionId,
  startKey: b(start),
  endKey: b(end),
  regionEpoch: epoch,
  peers: [{ id: 1 as PeerId, storeId: 1 as StoreId }]
})

describe("regionUtil", () => {
  it("TestCheckKeyInRegion", () => {
    const table: ReadonlyArray<[key: string, start: string, end: string, inRegion: boolean]> = [
      ["", "", "", true],
      ["a", "", "", true],
      ["a", "a", "b", true],
      ["a", "a", "", true],
      ["z", "a", "", true],
      ["a", "", "b", true],
      ["a", "b", "c", false],
      ["c", "a", "b", false],
      ["b", "a", "b", false],
      ["", "a", "", false]
    ]
    for (const [key, start, end, inRegion] of table) {
      const err = checkKeyInRegion(b(key), region(start, end))
      assert.strictEqual(err === undefined, inRegion, `key "${key}" in ["${start}", "${end}")`)
      if (err !== undefined) {
        assert.strictEqual(err._tag, "KeyNotInRegion")
        assert.deepStrictEqual([err.startKey, err.endKey], [b(start), b(end)])
      }
    }
  })

  it("TestIsInitialMsg", () => {
    const table: ReadonlyArray<[type: MessageType, commit: number, initial: boolean]> = [
      ["MsgRequestVote", 0, true],
      ["MsgRequestVote", 100, true],
      ["MsgHeartbeat", 0, true],
      ["MsgHeartbeat", 100, false],
      ["MsgAppend", 0, false],
      ["MsgAppend", 100, false],
      ["MsgSnapshot", 0, false],
      ["MsgRequestVoteResponse", 0, false]
    ]
    for (const [msgType, commit, initial] of table) {
      const m: Message = newMessage({ msgType, from: 1, to: 2, commit })
      assert.strictEqual(isInitialMsg(m), initial, `${msgType} commit ${commit}`)
    }
  })

  it("TestEpochStale", () => {
    const epoch = { version: 10, confVer: 10 }
    const table: ReadonlyArray<[version: number, confVer: number, stale: boolean]> = [
      [11, 10, true],
      [10, 11, true],
      [10, 10, false],
      [10, 9, false],
      [9, 10, false]
    ]
    for (const [version, confVer, stale] of table) {
      assert.strictEqual(isEpochStale(epoch, { version, confVer }), stale, `${version}/${confVer}`)
    }
  })

  it("TestCheckRegionEpoch", () => {
    const current = region("", "")
    const req = (epoch: RegionEpoch, admin?: AdminRequest): RaftCmdRequest => ({
      header: { regionId: 1 as RegionId, peer: current.peers[0]!, regionEpoch: epoch, term: 0 },
      requests: [],
      ...(admin ? { adminRequest: admin } : {})
    })
    const same = { confVer: 2, version: 2 }
    const staleVersion = { confVer: 2, version: 1 }
    const staleConfVer = { confVer: 1, version: 2 }
    const newer = { confVer: 3, version: 3 }
    const peer = current.peers[0]!
    const admins: Record<"compactLog" | "changePeer" | "split" | "transferLeader", AdminRequest> = {
      compactLog: { _tag: "CompactLog", compactIndex: 10, compactTerm: 6 },
      changePeer: { _tag: "ChangePeer", changeType: "AddNode", peer },
      split: { _tag: "Split", splitKey: b("k"), newRegionId: 2 as RegionId, newPeerIds: [2 as PeerId] },
      transferLeader: { _tag: "TransferLeader", peer }
    }
    // [what, epoch, admin, fails]
    const table: ReadonlyArray<[string, RegionEpoch, AdminRequest | undefined, boolean]> = [
      ["data, same epoch", same, undefined, false],
      ["data, stale version", staleVersion, undefined, true],
      ["data, stale conf ver (data only checks the version)", staleConfVer, undefined, false],
      ["data, newer epoch (checked strictly)", newer, undefined, true],
      ["CompactLog needs no epoch", staleVersion, admins.compactLog, false],
      ["CompactLog needs no epoch", newer, admins.compactLog, false],
      ["ChangePeer, same", same, admins.changePeer, false],
      ["ChangePeer, stale conf ver", staleConfVer, admins.changePeer, true],
      ["ChangePeer, stale version (not checked)", staleVersion, admins.changePeer, false],
      ["Split, same", same, admins.split, false],
      ["Split, stale version", staleVersion, admins.split, true],
      ["Split, stale conf ver", staleConfVer, admins.split, true],
      ["TransferLeader, stale version", staleVersion, admins.transferLeader, true],
      ["TransferLeader, stale conf ver", staleConfVer, admins.transferLeader, true],
      ["TransferLeader, same", same, admins.transferLeader, false]
    ]
    for (const [what, epoch, admin, fails] of table) {
      const err = checkRegionEpoch(req(epoch, admin), current)
      assert.strictEqual(err !== undefined, fails, what)
      if (err !== undefined) {
        assert.strictEqual(err._tag, "EpochNotMatch")
        assert.deepStrictEqual(err.currentRegions, [current], "the error carries the current region")
      }
    }
  })

  it("rangesOverlap treats an empty end as unbounded", () => {
    assert.isTrue(rangesOverlap(region("", ""), { startKey: b("a"), endKey: b("b") }))
    assert.isTrue(rangesOverlap(region("a", "c"), { startKey: b("b"), endKey: b("") }))
    assert.isFalse(rangesOverlap(region("a", "b"), { startKey: b("b"), endKey: b("c") }))
    assert.isFalse(rangesOverlap(region("c", ""), { startKey: b("a"), endKey: b("c") }))
  })
})
