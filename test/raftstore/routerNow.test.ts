/**
 * `Router.sendRaftMessageNow`, the connection's read path into the Raft worker (`src/server/raftIntake.ts`):
 * the same destinations as `sendRaftMessage`, and a bound — the worker's mailbox is unbounded (commands and
 * ticks must not be lost), so a flood of Raft messages from the network is dropped past
 * `MAX_WAITING_RAFT_MESSAGES` rather than grow the heap.
 *
 * `Router.sendCommandNow`, the fast lane's writes (`src/server/fastWrites.ts`): queued for a live peer at once,
 * answered through the callback by whatever completes the reply; refused (false, nothing queued, nothing
 * watched) where `sendCommand` would fail, so the caller's fallback answers it instead, exactly once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Option, Queue } from "effect"
import { makeRouter } from "../../src/layers/router.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../../src/protocol/raftCmd.js"
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

describe("Router.sendCommandNow", () => {
  const setup = Effect.gen(function* () {
    const raftMailbox = yield* Queue.unbounded<Envelope>()
    const storeMailbox = yield* Queue.unbounded<StoreMsg>()
    const live = 1 as RegionId
    const stopped = 2 as RegionId
    const failed = 3 as RegionId
    let closed = false
    const registry = {
      peers: new Map<RegionId, Peer>([
        [live, { stopped: false } as Peer],
        [stopped, { stopped: true } as Peer],
        [failed, { stopped: false } as Peer]
      ]),
      failed: new Map([[failed, new Error("failed")]]),
      isClosed: () => closed,
      raftMailbox,
      storeMailbox
    } as unknown as PeerRegistry["Type"]
    const router = makeRouter(registry, {} as Storage["Type"])
    const command = (regionId: RegionId): RaftCmdRequest => ({
      header: {
        regionId,
        term: 0,
        peer: { id: 1 as PeerId, storeId: 1 as StoreId },
        regionEpoch: { confVer: 1, version: 1 }
      },
      requests: [{ _tag: "Snap" }]
    })
    return { router, raftMailbox, live, stopped, failed, command, close: () => (closed = true) }
  })

  it.effect("queues the command at once; the reply's completion calls back, once, with the response", () =>
    Effect.gen(function* () {
      const { router, raftMailbox, live, command } = yield* setup
      const watched: Array<Deferred.Deferred<RaftCmdResponse>> = []
      const answers: Array<RaftCmdResponse> = []
      assert.isTrue(
        router.sendCommandNow(
          command(live),
          (d) => watched.push(d),
          (r) => answers.push(r)
        )
      )
      const queued = yield* Queue.take(raftMailbox)
      if (queued._tag !== "Peer" || queued.msg._tag !== "RaftCommand") return assert.fail("expected a command")
      assert.strictEqual(queued.regionId, live)
      assert.strictEqual(watched[0], queued.msg.reply, "the deadline watches the very reply")
      assert.deepStrictEqual(answers, [], "nothing answered before the worker does")
      const response: RaftCmdResponse = { header: { currentTerm: 5 }, responses: [] }
      Deferred.unsafeDone(queued.msg.reply, Exit.succeed(response))
      assert.deepStrictEqual(answers, [response])
      // the deadline firing after the answer changes nothing
      Deferred.unsafeDone(queued.msg.reply, Exit.succeed({ header: { currentTerm: 9 }, responses: [] }))
      assert.deepStrictEqual(answers, [response])
    })
  )

  it.effect("an interrupted reply is answered ServerIsBusy with an unknown outcome", () =>
    Effect.gen(function* () {
      const { router, raftMailbox, live, command } = yield* setup
      const answers: Array<RaftCmdResponse> = []
      assert.isTrue(
        router.sendCommandNow(
          command(live),
          () => {},
          (r) => answers.push(r)
        )
      )
      const queued = yield* Queue.take(raftMailbox)
      if (queued._tag !== "Peer" || queued.msg._tag !== "RaftCommand") return assert.fail("expected a command")
      yield* Deferred.interrupt(queued.msg.reply)
      const error = answers[0]?.header.error
      if (error?._tag !== "ServerIsBusy") return assert.fail(`expected ServerIsBusy, got ${error?._tag}`)
      assert.isTrue(error.outcomeUnknown)
    })
  )

  it.effect("refuses, queueing and watching nothing, where sendCommand would fail", () =>
    Effect.gen(function* () {
      const { router, raftMailbox, stopped, failed, command, close, live } = yield* setup
      let calls = 0
      const count = () => void calls++
      assert.isFalse(router.sendCommandNow(command(999 as RegionId), count, count), "no peer")
      assert.isFalse(router.sendCommandNow(command(stopped), count, count), "a stopped peer")
      assert.isFalse(router.sendCommandNow(command(failed), count, count), "a failed region")
      close()
      assert.isFalse(router.sendCommandNow(command(live), count, count), "a closed store")
      assert.strictEqual(size(raftMailbox), 0)
      assert.strictEqual(calls, 0)
    })
  )
})
