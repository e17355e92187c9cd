/**
 * The StoreWorker (TinyKV `maybeCreatePeer`): a Raft message for a region without a peer on the store
 * creates one only if it is an initial message (a vote, or a leader's heartbeat with commit 0), and never
 * for a region the store holds a tombstone of from the same or a later membership. And a stopped store
 * leaves nothing behind: no fiber sends, every command gets an answer.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Schedule } from "effect"
import { MemoryEngine } from "../../src/layers/storageMemory.js"
import { MemoryNetwork } from "../../src/layers/transportMemory.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { MessageType } from "../../src/protocol/eraftpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Region, RegionEpoch } from "../../src/protocol/metapb.js"
import type { RaftMessage } from "../../src/protocol/raftServer.js"
import { newMessage } from "../../src/raft/index.js"
import { RaftLocalStateCodec, RegionLocalStateCodec, SnapshotDataCodec } from "../../src/raftstore/codec.js"
import { raftStateKey, regionStateKey } from "../../src/raftstore/keys.js"
import { neverWithin } from "./helpers.js"
import { testConfig } from "../../src/raftstore/config.js"
import { eventually, runStore } from "./storeHarness.js"

const S1 = 1 as StoreId
const S2 = 2 as StoreId

/** A message from peer `100 + region` on store 2 to peer `region` on store 1. */
const message = (
  regionId: number,
  msgType: MessageType,
  opts: { commit?: number; epoch?: RegionEpoch; range?: [string, string] } = {}
): RaftMessage => ({
  regionId: regionId as RegionId,
  fromPeer: { id: (100 + regionId) as PeerId, storeId: S2 },
  toPeer: { id: regionId as PeerId, storeId: S1 },
  message: newMessage({
    msgType,
    from: 100 + regionId,
    to: regionId,
    term: 6,
    index: 5,
    logTerm: 5,
    commit: opts.commit ?? 0
  }),
  regionEpoch: opts.epoch ?? { confVer: 1, version: 1 },
  isTombstone: false,
  ...(opts.range ? { startKey: utf8(opts.range[0]), endKey: utf8(opts.range[1]) } : {})
})

const region = (
  id: number,
  start: string,
  end: string,
  epoch: RegionEpoch,
  peers: Array<[number, number]>
): Region => ({
  id: id as RegionId,
  startKey: utf8(start),
  endKey: utf8(end),
  regionEpoch: epoch,
  peers: peers.map(([p, s]) => ({ id: p as PeerId, storeId: s as StoreId }))
})

describe("StoreWorker", () => {
  // both ways a Raft message from the network reaches the store: the Effect, and the connection's read path
  // (`sendRaftMessageNow`, `src/server/raftIntake.ts`) — a missing peer goes to the StoreWorker either way
  for (const path of ["sendRaftMessage", "sendRaftMessageNow"] as const)
    it.live(`creates a peer for an initial message only, and respects tombstones (${path})`, () =>
      Effect.gen(function* () {
        const engine = new MemoryEngine()
        // region 1 covers ["m", "") on this store alone; region 11 was removed from it at conf ver 3
        engine.write([
          {
            _tag: "Put",
            space: "meta",
            key: regionStateKey(1 as RegionId),
            value: RegionLocalStateCodec.encode({
              state: "Normal",
              region: region(1, "m", "", { confVer: 1, version: 1 }, [[1, 1]])
            })
          },
          {
            _tag: "Put",
            space: "meta",
            key: regionStateKey(11 as RegionId),
            value: RegionLocalStateCodec.encode({
              state: "Tombstone",
              // store 2 (the voter below) was removed before store 1: it is not a member of the tombstone's region
              region: region(11, "", "m", { confVer: 3, version: 1 }, [[131, 3]])
            })
          }
        ])
        const network = yield* MemoryNetwork.make({ seed: 1 })
        const toStore2: Array<RaftMessage> = []
        yield* network.register(S2, (m) => Effect.sync(() => void toStore2.push(m)))
        const { store, stop } = yield* runStore(engine, network, S1)
        const send = (m: RaftMessage) =>
          path === "sendRaftMessage"
            ? store.router.sendRaftMessage(m)
            : Effect.sync(() => assert.isTrue(store.router.sendRaftMessageNow(m)))
        const has = (id: number) => store.peers.has(id as RegionId)

        // a vote creates an uninitialized peer, which answers votes once its first election timeout has passed
        // (`quietAfterStart`: it may have answered a leader's heartbeat before the store restarted)
        yield* send(message(7, "MsgRequestVote"))
        yield* eventually("peer of region 7", () => has(7))
        const p7 = store.peers.get(7 as RegionId)!
        assert.deepStrictEqual(p7.region.peers, [], "uninitialized: no members")
        assert.strictEqual(p7.id, 7)
        assert.isTrue(p7.rawNode.raft.quietAfterStart, "a peer made by a message starts quiet")
        const answered = () => toStore2.some((m) => m.regionId === 7 && m.message.msgType === "MsgRequestVoteResponse")
        // the candidate asks again until it is answered, as a real one does every election timeout
        const asking = yield* Effect.fork(
          Effect.repeat(send(message(7, "MsgRequestVote")), Schedule.spaced("100 millis"))
        )
        yield* eventually("vote response", answered, 10_000)
        yield* Fiber.interrupt(asking)

        // a leader's first heartbeat (commit 0) creates one; a later heartbeat or an append does not
        yield* send(message(8, "MsgHeartbeat", { commit: 0 }))
        yield* send(message(9, "MsgHeartbeat", { commit: 5 }))
        yield* send(message(10, "MsgAppend", { commit: 5 }))
        // the StoreWorker handles messages in order: once region 12's peer exists, 8, 9 and 10 were handled
        yield* send(message(12, "MsgRequestVote", { range: ["a", "b"] }))
        yield* eventually("peer of region 12", () => has(12))
        assert.isTrue(has(8), "heartbeat with commit 0 creates a peer")
        assert.isFalse(has(9), "heartbeat with a commit does not")
        assert.isFalse(has(10), "append does not")

        // a range overlapping region 1 would corrupt it: no peer
        yield* send(message(13, "MsgRequestVote", { range: ["a", "n"] }))
        // tombstone of region 11 at conf ver 3: older and same memberships are refused; a stale voter is told
        yield* send(message(11, "MsgRequestVote", { epoch: { confVer: 2, version: 1 } }))
        yield* send(message(11, "MsgRequestVote", { epoch: { confVer: 3, version: 1 } }))
        yield* send(message(14, "MsgRequestVote"))
        yield* eventually("peer of region 14", () => has(14))
        assert.isFalse(has(13), "overlapping range")
        assert.isFalse(has(11), "tombstone")
        yield* eventually("tombstone notice", () => toStore2.some((m) => m.regionId === 11 && m.isTombstone))
        // a later membership (conf ver 4) may re-add this store
        yield* send(message(11, "MsgRequestVote", { epoch: { confVer: 4, version: 1 } }))
        yield* eventually("peer of region 11 after re-add", () => has(11))
        yield* stop
      }).pipe(Effect.scoped)
    )

  it.live("a store out of disk space starts no new replica until space is freed", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine()
      const network = yield* MemoryNetwork.make({ seed: 1 })
      yield* network.register(S2, () => Effect.void)
      const { store, storeWorker, stop } = yield* runStore(engine, network, S1)
      // full for clients (all the room left is reserve): a new replica's snapshot would not fit
      engine.setQuota(engine.usedBytes + 1000, 1000)
      yield* store.router.sendRaftMessage(message(7, "MsgRequestVote"))
      yield* eventually("the StoreWorker refused it", () => Effect.runSync(storeWorker.verdicts)["disk-full"] === 1)
      assert.isFalse(store.peers.has(7 as RegionId))
      engine.setQuota(undefined)
      yield* store.router.sendRaftMessage(message(7, "MsgRequestVote"))
      yield* eventually("peer of region 7", () => store.peers.has(7 as RegionId))
      yield* stop
    }).pipe(Effect.scoped)
  )

  it.live("a stopped store leaves no fiber behind and answers every command", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine()
      // a 3-member region of which only this store runs: its peer campaigns forever and can commit nothing
      engine.write([
        {
          _tag: "Put",
          space: "meta",
          key: regionStateKey(1 as RegionId),
          value: RegionLocalStateCodec.encode({
            state: "Normal",
            region: region(1, "", "", { confVer: 1, version: 1 }, [
              [1, 1],
              [2, 2],
              [3, 3]
            ])
          })
        }
      ])
      const network = yield* MemoryNetwork.make({ seed: 1 })
      // store 2 grants every vote and acknowledges nothing else: store 1 leads but cannot commit
      let store1: ((m: RaftMessage) => Effect.Effect<void>) | undefined
      yield* network.register(S2, (m) =>
        m.message.msgType === "MsgRequestVote" && store1 !== undefined
          ? store1({
              ...m,
              fromPeer: m.toPeer,
              toPeer: m.fromPeer,
              message: newMessage({ msgType: "MsgRequestVoteResponse", from: 2, to: 1, term: m.message.term })
            })
          : Effect.void
      )
      // without PreVote and CheckQuorum: the fake acknowledges no heartbeat, so the quorum check would depose
      // store 1, which must stay leader with a command waiting
      const { store, stop } = yield* runStore(engine, network, S1, {
        ...testConfig,
        preVote: false,
        checkQuorum: false
      })
      store1 = store.router.sendRaftMessage
      const peer = store.peers.get(1 as RegionId)!
      yield* eventually("store 1 leads", () => peer.isLeader)
      const command = {
        header: { regionId: 1 as RegionId, peer: peer.meta, regionEpoch: peer.region.regionEpoch, term: 0 },
        requests: [{ _tag: "Put" as const, cf: "default", key: utf8("k"), value: utf8("v") }]
      }
      // proposed, never committed: it waits in the peer's proposals
      const pending = yield* Effect.fork(store.router.sendCommand(command))
      yield* eventually("the command waits in the peer's proposals", () => peer.proposals.length === 1)
      const before = yield* network.stats()
      assert.isAbove(before.sent, 0)

      yield* stop
      // the waiting command is answered, not left hanging
      const answer = yield* Fiber.join(pending).pipe(Effect.timeout("1 second"))
      assert.strictEqual(answer.header.error?._tag, "RegionNotFound")
      // after the stop no ticker, worker or heartbeat sends anything, and commands fail at once
      // "nothing is sent" is an absence, which no condition can signal: watch the network for a bounded window
      // (longer than a tick, a heartbeat and a StoreWorker round) and fail on any traffic observed in it
      const after = yield* network.stats()
      yield* neverWithin(
        Effect.map(network.stats(), (now) =>
          JSON.stringify(now) === JSON.stringify(after)
            ? false
            : `stats ${JSON.stringify(after)} became ${JSON.stringify(now)}`
        ),
        { what: "nothing was sent after the stop", window: "600 millis", interval: "10 millis" }
      )
      assert.deepStrictEqual(yield* network.stats(), after, "nothing was sent after the stop")
      const refused = yield* Effect.flip(store.router.sendCommand(command))
      assert.strictEqual(refused._tag, "RegionNotFound")
      assert.isTrue(peer.stopped)
    }).pipe(Effect.scoped)
  )

  it.live("a peer takes only a snapshot of a membership it is part of; a tombstone spares a member", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine()
      // region 21 was removed from this store at conf ver 3, when store 2 was still a member
      engine.write([
        {
          _tag: "Put",
          space: "meta",
          key: regionStateKey(21 as RegionId),
          value: RegionLocalStateCodec.encode({
            state: "Tombstone",
            region: region(21, "x", "y", { confVer: 3, version: 1 }, [[121, 2]])
          })
        }
      ])
      const network = yield* MemoryNetwork.make({ seed: 1 })
      const toStore2: Array<RaftMessage> = []
      yield* network.register(S2, (m) => Effect.sync(() => void toStore2.push(m)))
      const { store, stop } = yield* runStore(engine, network, S1)
      const send = (m: RaftMessage) => store.router.sendRaftMessage(m)

      // store 2's peer has not applied our removal yet (conf ver 2): it is a live member, not told to go away
      yield* send(message(21, "MsgRequestVote", { epoch: { confVer: 2, version: 1 } }))

      yield* send(message(15, "MsgHeartbeat", { commit: 0 }))
      yield* eventually("peer of region 15", () => store.peers.has(15 as RegionId))
      const snapshotOf = (peers: Array<[number, number]>): RaftMessage => {
        const snapRegion = region(15, "a", "b", { confVer: 2, version: 1 }, peers)
        const base = message(15, "MsgSnapshot", { epoch: snapRegion.regionEpoch })
        return {
          ...base,
          message: newMessage({
            msgType: "MsgSnapshot",
            from: 115,
            to: 15,
            term: 6,
            snapshot: {
              data: SnapshotDataCodec.encode({ region: snapRegion, fileSize: 0, data: [] }),
              metadata: { confState: { nodes: peers.map(([p]) => p) }, index: 7, term: 6 }
            }
          })
        }
      }
      const p15 = store.peers.get(15 as RegionId)!
      // a membership without this peer (15): dropped, the peer stays uninitialized
      yield* send(snapshotOf([[115, 2]]))
      yield* send(
        snapshotOf([
          [115, 2],
          [15, 1]
        ])
      )
      yield* eventually("snapshot applied", () => p15.region.peers.length === 2)
      assert.strictEqual(p15.storage.appliedIndex, 7)
      assert.isFalse(
        toStore2.some((m) => m.regionId === 21 && m.isTombstone),
        "a member of the tombstone's region is never told to erase itself"
      )
      yield* stop
    }).pipe(Effect.scoped)
  )

  it.live("a region it cannot make a peer of stays down alone: the worker goes on with the next", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine()
      // region 31: a raft state whose log this store no longer holds (what a crash inside a removal's window
      // leaves when nothing mends it: `raftstore/afterData.ts`), and no region state
      engine.write([
        {
          _tag: "Put",
          space: "raft",
          key: raftStateKey(31),
          value: RaftLocalStateCodec.encode({ hardState: { term: 6, vote: 0, commit: 37 }, lastIndex: 37, lastTerm: 6 })
        }
      ])
      const network = yield* MemoryNetwork.make({ seed: 1 })
      yield* network.register(S2, () => Effect.void)
      const { store, registry, stop } = yield* runStore(engine, network, S1)
      yield* store.router.sendRaftMessage(message(31, "MsgRequestVote"))
      yield* store.router.sendRaftMessage(message(32, "MsgRequestVote"))
      yield* eventually("peer of region 32", () => store.peers.has(32 as RegionId))
      assert.isFalse(store.peers.has(31 as RegionId))
      assert.match(registry.failed.get(31 as RegionId)?.message ?? "", /cannot load entries/)
      assert.isFalse(registry.isClosed(), "the store still serves")
      yield* stop
    }).pipe(Effect.scoped)
  )
})
