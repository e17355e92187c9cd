/**
 * `Router.sendRaftMessageNow`, the connection's read path into the Raft worker (`src/server/raftIntake.ts`):
 * the same destinations as `sendRaftMessage`, and a bound — the worker's mailbox is unbounded (commands and
 * ticks must not be lost), so a flood of Raft messages from the network is dropped past
 * `MAX_WAITING_RAFT_MESSAGES` rather than grow the heap.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Queue } from "effect"
import { makeRouter } from "../../src/layers/router.js"
import type { RegionId } from "../../src/protocol/ids.js"
import type { Envelope, PeerRegistry } from "../../src/raftstore/peerRegistry.js"
import type { Peer } from "../../src/raftstore/peer.js"
import { MAX_WAITING_RAFT_MESSAGES, type StoreMsg } from "../../src/services/Router.js"
import type { Storage } from "../../src/services/Storage.js"
import { raftMessage, s1, s2 } from "../transport/fixtures.js"

const size = <A>(q: Queue.Queue<A>) => Option.getOrElse(q.unsafeSize(), () => -1)

describe("Router.sendRaftMessageNow", () => {
  it.effect("to the peer's mailbox, to the store worker when the peer is missing, dropped past the bound", () =>
    Effect.gen(function* () {
      const raftMailbox = yield* Queue.unbounded<Envelope>()
      const storeMailbox = yield* Queue.unbounded<StoreMsg>()
      const region = raftMessage({ from: s1, to: s2, index: 1 }).regionId
      const registry = {
        peers: new Map<RegionId, Peer>([[region, { stopped: false } as Peer]]),
        failed: new Map(),
        isClosed: () => false,
        raftMailbox,
        storeMailbox
      } as unknown as PeerRegistry["Type"]
      // no read goes through this router: the storage is never touched
      const router = makeRouter(registry, {} as Storage["Type"])

      assert.isTrue(router.sendRaftMessageNow(raftMessage({ from: s1, to: s2, index: 1 })))
      const first = yield* Queue.take(raftMailbox)
      assert.strictEqual(first._tag, "Peer")

      const elsewhere = { ...raftMessage({ from: s1, to: s2, index: 2 }), regionId: 999 as RegionId }
      assert.isTrue(router.sendRaftMessageNow(elsewhere))
      assert.strictEqual(size(storeMailbox), 1, "a region without a peer goes to the store worker")

      for (let i = 0; i < MAX_WAITING_RAFT_MESSAGES; i++) {
        assert.isTrue(router.sendRaftMessageNow(raftMessage({ from: s1, to: s2, index: 3 })))
      }
      assert.isFalse(router.sendRaftMessageNow(raftMessage({ from: s1, to: s2, index: 4 })), "past the bound")
      assert.strictEqual(size(raftMailbox), MAX_WAITING_RAFT_MESSAGES)
    })
  )
})
