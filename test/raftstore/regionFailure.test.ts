/**
 * A RaftWorker failure never leaves commands waiting. A `RaftInvariantError` from one region's Raft core
 * — while stepping a message or while gathering its Ready — stops that region's peer only (and is logged): its waiting and later commands are answered RegionNotFound at once, the
 * StoreWorker does not bring it back as a fresh peer, and the store's other region keeps committing. Any
 * other failure kills the RaftWorker, which closes the whole store: every command is answered at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, Logger } from "effect"
import { MemoryEngine } from "../../src/layers/storageMemory.js"
import { MemoryNetwork } from "../../src/layers/transportMemory.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { MessageType } from "../../src/protocol/eraftpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Peer as PeerMeta, Region } from "../../src/protocol/metapb.js"
import type { RaftCmdRequest } from "../../src/protocol/raftCmd.js"
import type { RaftMessage } from "../../src/protocol/raftServer.js"
import { newMessage, RaftInvariantError } from "../../src/raft/index.js"
import { RegionLocalStateCodec } from "../../src/raftstore/codec.js"
import { regionStateKey } from "../../src/raftstore/keys.js"
import { testConfig } from "../../src/raftstore/config.js"
import type { Peer } from "../../src/raftstore/peer.js"
import { eventually, runStore } from "./storeHarness.js"

const S1 = 1 as StoreId
const S2 = 2 as StoreId
const EPOCH = { confVer: 1, version: 1 }
const meta = (id: number, storeId: StoreId): PeerMeta => ({ id: id as PeerId, storeId })
const R1 = 1 as RegionId
const R2 = 2 as RegionId

/**
 * Region 1 = ["", "m") with peers 1 (store 1) and 101 (store 2); region 2 = ["m", "") with peer 2 on store
 * 1 alone. Store 2 is a fake that grants every vote and acknowledges nothing else: store 1 leads region 1
 * but cannot commit there, so a command to it waits in the peer's proposals; region 2 commits alone.
 */
const twoRegions = () => {
  const engine = new MemoryEngine()
  const region = (id: RegionId, start: string, end: string, peers: Array<PeerMeta>): Region => ({
    id,
    startKey: utf8(start),
    endKey: utf8(end),
    regionEpoch: EPOCH,
    peers
  })
  engine.write(
    [region(R1, "", "m", [meta(1, S1), meta(101, S2)]), region(R2, "m", "", [meta(2, S1)])].map((r) => ({
      _tag: "Put" as const,
      space: "meta" as const,
      key: regionStateKey(r.id),
      value: RegionLocalStateCodec.encode({ state: "Normal", region: r })
    }))
  )
  return engine
}

const start = Effect.gen(function* () {
  const network = yield* MemoryNetwork.make({ seed: 1 })
  let store1: ((m: RaftMessage) => Effect.Effect<void>) | undefined
  yield* network.register(S2, (m) =>
    m.message.msgType === "MsgRequestVote" && store1 !== undefined
      ? store1({
          ...m,
          fromPeer: m.toPeer,
          toPeer: m.fromPeer,
          message: newMessage({ msgType: "MsgRequestVoteResponse", from: 101, to: 1, term: m.message.term })
        })
      : Effect.void
  )
  // without PreVote and CheckQuorum: the fake acknowledges no heartbeat, so the quorum check would depose
  // store 1, which must stay leader of region 1 with a command waiting there
  const running = yield* runStore(twoRegions(), network, S1, { ...testConfig, preVote: false, checkQuorum: false })
  store1 = running.store.router.sendRaftMessage
  const p1 = running.store.peers.get(R1)!
  const p2 = running.store.peers.get(R2)!
  yield* eventually("store 1 leads both regions", () => p1.isLeader && p2.isLeader)
  return { ...running, p1, p2 }
})

const put = (peer: Peer, key: string): RaftCmdRequest => ({
  header: { regionId: peer.regionId, peer: peer.meta, regionEpoch: EPOCH, term: 0 },
  requests: [{ _tag: "Put", cf: "default", key: utf8(key), value: utf8("v") }]
})

/** A message from store 2's peer 101 to region 1's peer on store 1. */
const fromStore2 = (msgType: MessageType, term: number): RaftMessage => ({
  regionId: R1,
  fromPeer: meta(101, S2),
  toPeer: meta(1, S1),
  message: newMessage({ msgType, from: 101, to: 1, term }),
  regionEpoch: EPOCH,
  isTombstone: false
})

/** Fails the test if `effect` has not completed within `ms`: an answer must come at once, not at a timeout. */
const promptly = <A, E>(what: string, effect: Effect.Effect<A, E>, ms = 1_000) =>
  effect.pipe(Effect.timeoutFail({ duration: `${ms} millis`, onTimeout: () => `${what}: no answer in ${ms} ms` }))

/** Error-level log lines, captured for the test (the worker's fibers inherit the logger when forked). */
const captureErrors = () => {
  const lines: Array<string> = []
  const layer = Logger.add(
    Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Error") lines.push(String(Array.isArray(message) ? message[0] : message))
    })
  )
  return { lines, layer }
}

describe("RaftWorker failures", () => {
  it.live("a RaftInvariantError stops only its region's peer; the other region goes on", () => {
    const errors = captureErrors()
    return Effect.gen(function* () {
      const { store, registry, raftWorker, storeWorker, p1, p2, stop } = yield* start
      const router = store.router

      // a command that waits for its entry in region 1 (store 2 acknowledges nothing)
      const waiting = yield* Effect.fork(router.sendCommand(put(p1, "a")))
      yield* eventually("the command waits in region 1", () => p1.proposals.length === 1)

      // region 1's Raft core breaks an invariant on the next message it steps
      Object.assign(p1.rawNode, {
        step: () => {
          throw new RaftInvariantError("injected: region 1's log is corrupt")
        }
      })
      yield* router.sendRaftMessage(fromStore2("MsgHeartbeatResponse", p1.term))

      // the waiting command is answered, not left to time out
      const answered = yield* promptly("waiting command", Fiber.join(waiting))
      assert.strictEqual(answered.header.error?._tag, "RegionNotFound")
      assert.isTrue(p1.stopped)
      assert.isFalse(store.peers.has(R1), "the failed peer is no longer live")
      assert.instanceOf(registry.failed.get(R1), RaftInvariantError)

      // later commands to region 1 are refused by the Router at once
      const refused = yield* promptly("later command", Effect.either(router.sendCommand(put(p1, "b"))))
      assert.isTrue(Either.isLeft(refused) && refused.left._tag === "RegionNotFound")

      // an initial message for region 1 does not bring it back as a fresh, empty peer
      yield* router.sendRaftMessage(fromStore2("MsgRequestVote", p1.term + 1))
      yield* eventually("the StoreWorker dropped it", () => Effect.runSync(storeWorker.verdicts).failed !== undefined)
      assert.isFalse(store.peers.has(R1))

      // region 2, on the same store and the same worker, still commits
      const ok = yield* promptly("region 2 command", router.sendCommand(put(p2, "x")), 3_000)
      assert.isUndefined(ok.header.error)
      assert.isFalse(p2.stopped)
      const roundsBefore = yield* raftWorker.rounds
      yield* eventually("the worker keeps running rounds", () => Effect.runSync(raftWorker.rounds) > roundsBefore)
      assert.isTrue(
        errors.lines.some((l) => l.startsWith("Raft invariant broken")),
        "the failure is logged at error level"
      )
      yield* stop
    }).pipe(Effect.provide(errors.layer), Effect.scoped)
  })

  it.live("a RaftInvariantError while gathering a Ready stops that peer; its waiting command is answered", () =>
    Effect.gen(function* () {
      const { store, registry, p1, p2, stop } = yield* start
      const router = store.router
      const waiting = yield* Effect.fork(router.sendCommand(put(p1, "a")))
      yield* eventually("the command waits in region 1", () => p1.proposals.length === 1)
      Object.assign(p1.rawNode, {
        hasReady: () => {
          throw new RaftInvariantError("injected: region 1's Ready breaks the contract")
        }
      })
      // the next tick touches every peer: region 1 fails in processReadies, region 2 goes through the write
      const answered = yield* promptly("waiting command", Fiber.join(waiting))
      assert.strictEqual(answered.header.error?._tag, "RegionNotFound")
      assert.isTrue(registry.failed.has(R1))
      const ok = yield* promptly("region 2 command", router.sendCommand(put(p2, "y")), 3_000)
      assert.isUndefined(ok.header.error)
      yield* stop
    }).pipe(Effect.scoped)
  )

  it.live("any other failure kills the RaftWorker, which closes the store: every command is answered", () =>
    Effect.gen(function* () {
      const { store, registry, raftWorker, p1, p2, stop } = yield* start
      const router = store.router
      const waiting = yield* Effect.fork(router.sendCommand(put(p1, "a")))
      yield* eventually("the command waits in region 1", () => p1.proposals.length === 1)

      // a bug outside the Raft core's invariants (a plain Error) in region 2: not one region's fault
      Object.assign(p2.rawNode, {
        tick: () => {
          throw new Error("injected: a bug in the store")
        }
      })
      yield* promptly("the worker stops", raftWorker.stopped, 3_000)
      assert.isTrue(registry.isClosed())

      const answered = yield* promptly("waiting command", Fiber.join(waiting))
      assert.strictEqual(answered.header.error?._tag, "RegionNotFound")
      for (const peer of [p1, p2]) {
        const refused = yield* promptly("later command", Effect.either(router.sendCommand(put(peer, "b"))))
        assert.isTrue(Either.isLeft(refused) && refused.left._tag === "RegionNotFound")
      }
      yield* stop
    }).pipe(Effect.scoped)
  )
})
