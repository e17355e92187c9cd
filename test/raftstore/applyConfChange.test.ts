/**
 * Applying committed ChangePeer entries (TinyKV's apply-time checks): the conf version goes up with each
 * change; a change proposed under an older conf version, a second peer on one store, or the removal of the
 * last peer change nothing; a peer applying its own removal writes no apply state after it (its
 * destruction, in the same batch, deletes it).
 */
import { assert, describe, it } from "@effect/vitest"
import { MemoryEngine } from "../../src/layers/storageMemory.js"
import type { Entry } from "../../src/protocol/eraftpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Peer as PeerMeta, Region, RegionEpoch } from "../../src/protocol/metapb.js"
import { encodeConfChange } from "../../src/raft/index.js"
import { applyEntries, Overlay } from "../../src/raftstore/apply.js"
import { RaftCmdCodec } from "../../src/raftstore/codec.js"
import { testConfig } from "../../src/raftstore/config.js"
import { applyStateKey } from "../../src/raftstore/keys.js"
import type { Peer, Reply } from "../../src/raftstore/peer.js"
import { newPeer } from "../../src/raftstore/peerLoader.js"
import { PeerStorage } from "../../src/raftstore/peerStorage.js"
import type { WriteOp } from "../../src/services/Storage.js"

const meta = (id: number, store: number): PeerMeta => ({ id: id as PeerId, storeId: store as StoreId })
const REGION: Region = {
  id: 1 as RegionId,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: { confVer: 1, version: 1 },
  peers: [meta(1, 1)]
}

/** A single-member peer on store 1 with its log at 5/5. */
const makePeer = (): Peer => {
  const engine = new MemoryEngine()
  const { storage, initOps } = PeerStorage.load(engine, REGION)
  engine.write(initOps)
  return newPeer({ storeId: 1 as StoreId, config: testConfig, seed: 1 }, meta(1, 1), storage)
}

const changePeer = (
  index: number,
  changeType: "AddNode" | "RemoveNode",
  target: PeerMeta,
  epoch: RegionEpoch
): Entry => ({
  entryType: "EntryConfChange",
  index,
  term: 5,
  data: encodeConfChange({
    changeType,
    nodeId: target.id,
    context: RaftCmdCodec.encode({
      header: { regionId: REGION.id, peer: meta(1, 1), regionEpoch: epoch, term: 0 },
      requests: [],
      adminRequest: { _tag: "ChangePeer", changeType, peer: target }
    })
  })
})

const apply = (peer: Peer, entries: ReadonlyArray<Entry>) => {
  const ops: Array<WriteOp> = []
  const replies: Array<Reply> = []
  const outcome = applyEntries(peer, entries, new Overlay(new MemoryEngine()), ops, replies)
  return { ops, outcome }
}

describe("apply ChangePeer", () => {
  it("bumps the conf version per change and refuses stale or invalid ones", () => {
    const peer = makePeer()
    const v1 = { confVer: 1, version: 1 }
    const v2 = { confVer: 2, version: 1 }
    const first = apply(peer, [changePeer(6, "AddNode", meta(2, 2), v1)])
    assert.isTrue(first.outcome.regionChanged)
    assert.deepStrictEqual(peer.region.regionEpoch, v2)
    assert.deepStrictEqual(
      peer.region.peers.map((p) => p.id),
      [1, 2]
    )

    // proposed under conf ver 1, committed after the change above: stale
    const stale = apply(peer, [changePeer(7, "AddNode", meta(3, 3), v1)])
    assert.isFalse(stale.outcome.regionChanged)
    // a second peer on store 2
    const twice = apply(peer, [changePeer(8, "AddNode", meta(4, 2), v2)])
    assert.isFalse(twice.outcome.regionChanged)
    assert.deepStrictEqual(peer.region.regionEpoch, v2)
    assert.deepStrictEqual(
      peer.region.peers.map((p) => p.id),
      [1, 2]
    )
    assert.strictEqual(peer.storage.appliedIndex, 8, "refused entries are applied all the same")
    assert.deepStrictEqual(peer.rawNode.raft.nodes(), [1, 2])
  })

  it("never removes the last peer; a peer removing itself writes no apply state", () => {
    const peer = makePeer()
    const last = apply(peer, [changePeer(6, "RemoveNode", meta(1, 1), { confVer: 1, version: 1 })])
    assert.isFalse(last.outcome.destroySelf)
    assert.strictEqual(peer.region.peers.length, 1)

    apply(peer, [changePeer(7, "AddNode", meta(2, 2), { confVer: 1, version: 1 })])
    const self = apply(peer, [changePeer(8, "RemoveNode", meta(1, 1), { confVer: 2, version: 1 })])
    assert.isTrue(self.outcome.destroySelf)
    assert.deepStrictEqual(
      peer.region.peers.map((p) => p.id),
      [2]
    )
    const applyKey = applyStateKey(REGION.id)
    assert.isFalse(
      self.ops.some(
        (op) => op._tag === "Put" && op.key.every((b, i) => b === applyKey[i]) && op.key.length === applyKey.length
      ),
      "no apply state is written for a peer that removed itself"
    )
  })
})
