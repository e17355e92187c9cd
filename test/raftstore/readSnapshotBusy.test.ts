/**
 * A read whose engine snapshot cannot be opened (LMDB's reader slots all taken under many concurrent
 * reads) is answered ServerIsBusy on its own: the round does not fail, so the store's other regions and
 * reads go on (before, the error failed the round and the raft worker died with it).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { layerMemory } from "../../src/layers/storageMemory.js"
import { StorageError } from "../../src/protocol/errorpb.js"
import type { RegionId, PeerId, StoreId } from "../../src/protocol/ids.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../../src/protocol/raftCmd.js"
import type { Reply } from "../../src/raftstore/peer.js"
import { sendRead, takeReadSnapshots } from "../../src/raftstore/readSnapshot.js"
import type { PeerMsg, Router } from "../../src/services/Router.js"
import { Storage } from "../../src/services/Storage.js"

const header = {
  regionId: 1 as RegionId,
  peer: { id: 1 as PeerId, storeId: 1 as StoreId },
  regionEpoch: { confVer: 1, version: 1 },
  term: 0
}
const request: RaftCmdRequest = { header, requests: [{ _tag: "Snap" }] }

describe("read snapshots the engine cannot open", () => {
  it.scoped("answer that read ServerIsBusy, and the round goes on", () =>
    Effect.gen(function* () {
      const base = yield* Effect.provide(Storage, layerMemory)
      const full = { ...base, snapshot: Effect.fail(new StorageError({ message: "MDB_READERS_FULL" })) }
      const sent = yield* Deferred.make<Deferred.Deferred<RaftCmdResponse>>()
      const router = {
        send: (_: RegionId, msg: PeerMsg) =>
          msg._tag === "RaftCommand" ? Deferred.succeed(sent, msg.reply).pipe(Effect.asVoid) : Effect.void
      } as unknown as Router["Type"]
      const read = yield* Effect.fork(Effect.scoped(sendRead(router, request)))
      const reply = yield* Deferred.await(sent)
      const answered: RaftCmdResponse = {
        header: { currentTerm: 7 },
        responses: [{ _tag: "Snap", region: {} as never }]
      }
      const replies: Array<Reply> = [[reply, answered]]
      yield* takeReadSnapshots(full, replies)
      for (const [d, r] of replies) yield* Deferred.succeed(d, r)
      const { response, reader } = yield* Fiber.join(read)
      assert.strictEqual(response.header.error?._tag, "ServerIsBusy")
      assert.strictEqual(response.header.currentTerm, 7)
      assert.isUndefined(reader)
    })
  )
})
