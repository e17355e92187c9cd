/**
 * A read whose `Snap` applies in the same Ready as the peer's own removal. The round takes the read's
 * engine snapshot after its one write, and that write also carries the peer's destruction, which clears
 * the region's data: a snapshot taken then would answer the read with an empty region. (The 3B
 * generic scenarios reach it: a deposed leader's `Snap` committed by its successor together with its removal.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { Entry } from "../../src/protocol/eraftpb.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import { encodeConfChange } from "../../src/raft/index.js"
import { RaftCmdCodec } from "../../src/raftstore/codec.js"
import { testConfig } from "../../src/raftstore/config.js"
import type { Peer } from "../../src/raftstore/peer.js"
import { newPeer } from "../../src/raftstore/peerLoader.js"
import { DeferredWrites } from "../../src/raftstore/deferredWrites.js"
import type { PeerRegistry } from "../../src/raftstore/peerRegistry.js"
import { PeerStorage } from "../../src/raftstore/peerStorage.js"
import { processReadies } from "../../src/raftstore/raftWorker.js"
import { RoundContext } from "../../src/raftstore/roundContext.js"
import { Storage } from "../../src/services/Storage.js"
import { header, meta, proposedRead, REGION, snapCommand } from "./helpers.js"

const KEY = physicalKey("raw", utf8("k"))

const entry = (index: number, data: Uint8Array, conf = false): Entry => ({
  entryType: conf ? "EntryConfChange" : "EntryNormal",
  index,
  term: 6,
  data
})
const removeSelf = encodeConfChange({
  changeType: "RemoveNode",
  nodeId: 1,
  context: RaftCmdCodec.encode({
    header: { ...header, peer: meta(2, 2) },
    requests: [],
    adminRequest: { _tag: "ChangePeer", changeType: "RemoveNode", peer: meta(1, 1) }
  })
})

describe("read snapshots", () => {
  it.effect("a Snap applied with its peer's own removal is not answered from the cleared engine", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine()
      const { storage: ps, initOps } = PeerStorage.load(engine, REGION)
      engine.write([...initOps, { _tag: "Put", space: "default", key: KEY, value: utf8("v") }])
      const peer: Peer = newPeer({ storeId: 1 as StoreId, config: testConfig, seed: 1 }, meta(1, 1), ps)
      const storage = yield* Effect.provide(Storage, layerMemoryFrom(engine))

      // the read this peer proposed at index 6 while it led term 6 (the proposal as `Peer.propose` records it)
      const read = yield* proposedRead(peer, snapCommand, { index: 6, term: 6 }, KEY)

      // the successor commits the read and the removal of this peer together
      peer.rawNode.step({
        msgType: "MsgAppend",
        to: 1,
        from: 2,
        term: 6,
        logTerm: 5,
        index: 5,
        entries: [entry(6, RaftCmdCodec.encode(snapCommand)), entry(7, removeSelf, true)],
        commit: 7,
        reject: false
      })
      const ctx = new RoundContext({ engine: new DeferredWrites(storage.latest) } as unknown as PeerRegistry["Type"])
      ctx.touched.add(peer)
      yield* processReadies(
        ctx,
        storage,
        { send: () => Effect.void },
        { storeId: 1 as StoreId, config: testConfig, seed: 1 }
      )

      assert.isTrue(ctx.toDestroy.has(peer), "the peer applied its own removal")
      assert.isUndefined(engine.get("default", KEY), "its data went with it")
      const got = yield* Fiber.join(read)
      // answered from the cleared engine, the read would see an empty region
      assert.deepStrictEqual(got, { error: "RegionNotFound", value: undefined })
    })
  )
})
