/**
 * A round that only applies holds its write back (`src/raftstore/deferredWrites.ts`); a later round whose
 * replies wait for an engine snapshot (a read) writes it first, so the read sees every write applied before it.
 * Here on a follower: a put is committed and applied in one round (held back), then a `Snap` committed after
 * it is answered from a snapshot that must hold the put.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { Entry, Message } from "../../src/protocol/eraftpb.js"
import { type MessageInit, newMessage } from "../../src/raft/index.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import type { RaftCmdRequest } from "../../src/protocol/raftCmd.js"
import { RaftCmdCodec } from "../../src/raftstore/codec.js"
import { testConfig } from "../../src/raftstore/config.js"
import { DeferredWrites } from "../../src/raftstore/deferredWrites.js"
import type { Peer } from "../../src/raftstore/peer.js"
import { newPeer } from "../../src/raftstore/peerLoader.js"
import type { PeerRegistry } from "../../src/raftstore/peerRegistry.js"
import { PeerStorage } from "../../src/raftstore/peerStorage.js"
import { processReadies } from "../../src/raftstore/raftWorker.js"
import { RoundContext } from "../../src/raftstore/roundContext.js"
import { Storage } from "../../src/services/Storage.js"
import { header, meta, proposedRead, REGION, snapCommand } from "./helpers.js"

const putCommand: RaftCmdRequest = {
  header,
  requests: [{ _tag: "Put", cf: "default", key: utf8("k"), value: utf8("v") }]
}
const KEY = physicalKey("raw", utf8("k"))
const entry = (index: number, command: RaftCmdRequest): Entry => ({
  entryType: "EntryNormal",
  index,
  term: 6,
  data: RaftCmdCodec.encode(command)
})
/** From the leader (peer 2) in term 6; a heartbeat unless `over` says otherwise. */
const fromLeader = (over: Partial<MessageInit>): Message =>
  newMessage({ msgType: "MsgHeartbeat", to: 1, from: 2, term: 6, ...over })

describe("applies held back", () => {
  it.effect("a round whose read waits for a snapshot writes the applies held back before it", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine({ modelSync: true })
      const inner = yield* Effect.provide(Storage, layerMemoryFrom(engine))
      const held = new DeferredWrites(inner.latest)
      const { storage: ps, initOps } = PeerStorage.load(held, REGION)
      engine.write(initOps)
      const peer: Peer = newPeer({ storeId: 1 as StoreId, config: testConfig, seed: 1 }, meta(1, 1), ps)
      const writes: Array<string> = []
      const storage: Storage["Type"] = {
        ...inner,
        write: (ops, options) =>
          Effect.suspend(() => {
            writes.push(options?.sync === true ? "synced" : "unsynced")
            return inner.write(ops, options)
          })
      }
      const round = Effect.suspend(() => {
        writes.length = 0
        const ctx = new RoundContext({ engine: held } as unknown as PeerRegistry["Type"])
        ctx.touched.add(peer)
        const factory = { storeId: 1 as StoreId, config: testConfig, seed: 1 }
        return Effect.map(processReadies(ctx, storage, { send: () => Effect.void }, factory), () => [...writes])
      })

      // the read this peer proposed at index 7 while it led term 6 (the proposal as `Peer.propose` records it)
      const read = yield* proposedRead(peer, snapCommand, { index: 7, term: 6 }, KEY)

      // the put (6) and the read (7) reach this peer's log: a synced write
      peer.rawNode.step(
        fromLeader({
          msgType: "MsgAppend",
          logTerm: 5,
          index: 5,
          entries: [entry(6, putCommand), entry(7, snapCommand)],
          commit: 5
        })
      )
      assert.deepStrictEqual(yield* round, ["synced"])
      // the put commits and applies: held back, the engine does not have it yet, the worker sees it
      peer.rawNode.step(fromLeader({ commit: 6 }))
      assert.deepStrictEqual(yield* round, [])
      assert.strictEqual(peer.storage.appliedIndex, 6)
      assert.isUndefined(engine.get("default", KEY))
      assert.deepStrictEqual(held.get("default", KEY), utf8("v"))
      // the read commits and applies: its snapshot follows a write of what was held back
      peer.rawNode.step(fromLeader({ commit: 7 }))
      assert.deepStrictEqual(yield* round, ["unsynced"])
      assert.strictEqual(held.size, 0)
      const got = yield* Fiber.join(read)
      assert.deepStrictEqual(got, { error: undefined, value: utf8("v") })
    })
  )
})
