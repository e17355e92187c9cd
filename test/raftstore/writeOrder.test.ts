/**
 * What a round sends before its write, and which writes it syncs (`src/raftstore/raftWorker.ts`): a leader's
 * appends go out before its log write (the followers write in parallel), everything else after it; a round
 * that only applies committed entries is not synced, a round with new entries, term or vote is. The
 * answer to a command whose entry was durable before the round goes out before the round's write; one
 * whose entry the round's own write makes durable (a one-member region commits at once) waits for it. The
 * commands of one round are proposed as one batch of entries, in the order they came: one append per follower.
 * A round with nothing beside its write (a follower's) tells the engine so (`idle`); a leader's that sent first does not.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import type { Message } from "../../src/protocol/eraftpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Peer as PeerMeta, Region } from "../../src/protocol/metapb.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../../src/protocol/raftCmd.js"
import type { RaftMessage } from "../../src/protocol/raftServer.js"
import { RaftApplyStateCodec, RaftCmdCodec } from "../../src/raftstore/codec.js"
import { applyStateKey } from "../../src/raftstore/keys.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import { testConfig } from "../../src/raftstore/config.js"
import { newPeer } from "../../src/raftstore/peerLoader.js"
import { DeferredWrites } from "../../src/raftstore/deferredWrites.js"
import type { PeerRegistry } from "../../src/raftstore/peerRegistry.js"
import { PeerStorage } from "../../src/raftstore/peerStorage.js"
import { processReadies } from "../../src/raftstore/raftWorker.js"
import { RoundContext } from "../../src/raftstore/roundContext.js"
import { Storage, type WriteOp } from "../../src/services/Storage.js"

const meta = (id: number, store: number): PeerMeta => ({ id: id as PeerId, storeId: store as StoreId })
const REGION: Region = {
  id: 1 as RegionId,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: { confVer: 2, version: 1 },
  peers: [meta(1, 1), meta(2, 2)]
}
const factory = { storeId: 1 as StoreId, config: testConfig, seed: 1 }
const ONE_MEMBER: Region = {
  ...REGION,
  id: 2 as RegionId,
  regionEpoch: { confVer: 1, version: 1 },
  peers: [meta(1, 1)]
}

const putCommand = (region: Region, key = 1): RaftCmdRequest => ({
  header: { regionId: region.id, peer: meta(1, 1), regionEpoch: region.regionEpoch, term: 0 },
  requests: [{ _tag: "Put", cf: "default", key: new Uint8Array([key]), value: new Uint8Array([2]) }]
})

/**
 * Store 1's peer of `region` on a fresh engine, and its rounds run over a storage that records each write
 * (synced or not) and, at each write, which of `watched` replies were already answered, and a transport
 * that records what it sends.
 */
const recorder = (region: Region) =>
  Effect.gen(function* () {
    const engine = new MemoryEngine({ modelSync: true })
    const inner = yield* Effect.provide(Storage, layerMemoryFrom(engine))
    // what the worker reads: the engine with the applies its rounds held back (`deferredWrites.ts`)
    const held = new DeferredWrites(inner.latest)
    const { storage: ps, initOps } = PeerStorage.load(held, region)
    engine.write(initOps)
    const peer = newPeer(factory, meta(1, 1), ps)
    const events: Array<string> = []
    const watched: Array<Deferred.Deferred<RaftCmdResponse>> = []
    let sent: Array<RaftMessage> = []
    const writes: Array<ReadonlyArray<WriteOp>> = []
    const idles: Array<boolean> = []
    const storage: Storage["Type"] = {
      ...inner,
      write: (ops, options) =>
        Effect.gen(function* () {
          for (const d of watched) if (yield* Deferred.isDone(d)) events.push("answered")
          events.push(`write ${options?.sync === true ? "synced" : "unsynced"}`)
          writes.push(ops)
          idles.push(options?.idle === true)
          return yield* inner.write(ops, options)
        })
    }
    const transport = {
      send: (ms: ReadonlyArray<RaftMessage>) =>
        Effect.sync(() => {
          for (const m of ms) events.push(`send ${m.message.msgType}`)
          sent.push(...ms)
        })
    }
    const roundOf = (ticks: number) =>
      Effect.gen(function* () {
        events.length = 0
        sent = []
        const ctx = new RoundContext({ engine: held } as unknown as PeerRegistry["Type"])
        ctx.ticks = ticks
        ctx.touched.add(peer)
        yield* processReadies(ctx, storage, transport, factory)
        return [...events]
      })
    return {
      peer,
      engine,
      held,
      round: roundOf(0),
      tickRound: roundOf(1),
      watched,
      sent: () => sent,
      lastWrite: () => writes[writes.length - 1]!,
      lastIdle: () => idles[idles.length - 1]!
    }
  })

const reply = (m: Message, msgType: Message["msgType"], over: Partial<Message> = {}): Message => ({
  msgType,
  to: m.from,
  from: m.to,
  term: m.term,
  logTerm: 0,
  index: 0,
  entries: [],
  commit: 0,
  reject: false,
  ...over
})

describe("the round's write and sends", () => {
  it.effect("a leader's appends go before its write; an apply-only write is held back for the next write", () =>
    Effect.gen(function* () {
      const { peer, engine, held, round, tickRound, watched, sent: sentNow, lastWrite } = yield* recorder(REGION)
      // an election: every vote request waits for the synced write of the term and vote it carries
      peer.rawNode.campaign()
      for (let i = 0; i < 4 && !peer.isLeader; i++) {
        const got = yield* round
        const votes = sentNow().filter(
          (m) => m.message.msgType === "MsgPreVote" || m.message.msgType === "MsgRequestVote"
        )
        assert.isAbove(votes.length, 0, JSON.stringify(got))
        assert.isBelow(got.indexOf("write synced"), got.indexOf(`send ${votes[0]!.message.msgType}`))
        for (const v of votes) {
          const type = v.message.msgType === "MsgPreVote" ? "MsgPreVoteResponse" : "MsgRequestVoteResponse"
          peer.rawNode.step(reply(v.message, type))
        }
      }
      assert.isTrue(peer.isLeader)

      // the leader's first entry: its append goes out before the synced write of that entry
      const first = yield* round
      assert.deepStrictEqual(first, ["send MsgAppend", "write synced"])
      let append = sentNow()[0]!.message
      let last = append.index + append.entries.length

      // the follower's acknowledgement commits it: applied, and the apply held back (no write of its own)
      peer.rawNode.step(reply(append, "MsgAppendResponse", { index: last }))
      assert.deepStrictEqual(yield* round, [])
      assert.strictEqual(peer.storage.appliedIndex, last)
      const applyKey = applyStateKey(REGION.id)
      assert.isAbove(held.size, 0)
      assert.strictEqual(RaftApplyStateCodec.decode(held.get("meta", applyKey)!).appliedIndex, last)
      assert.isBelow(RaftApplyStateCodec.decode(engine.get("meta", applyKey)!).appliedIndex, last)
      const heldOps = [...held.ops]

      // a put: its entry is written (synced) in one round, and that write carries the held-back apply first;
      // once acknowledged, its answer goes out at once and its apply is held back in turn
      const answer = yield* Deferred.make<RaftCmdResponse>()
      watched.push(answer)
      peer.propose(putCommand(REGION), answer)
      assert.deepStrictEqual(yield* round, ["send MsgAppend", "write synced"])
      assert.deepStrictEqual(lastWrite().slice(0, heldOps.length), heldOps)
      assert.strictEqual(held.size, 0)
      assert.strictEqual(RaftApplyStateCodec.decode(engine.get("meta", applyKey)!).appliedIndex, last)
      append = sentNow()[0]!.message
      last = append.index + append.entries.length
      peer.rawNode.step(reply(append, "MsgAppendResponse", { index: last }))
      // (no append for the new commit index alone: the follower learns it from the next append or heartbeat,
      // `StoreConfig.lazyCommit`)
      assert.deepStrictEqual(yield* round, [])
      assert.isTrue(yield* Deferred.isDone(answer))
      assert.isUndefined((yield* Deferred.await(answer)).header.error)
      // the put is visible to the worker at once, and reaches the engine with the next tick's round, unsynced
      const dataKey = physicalKey("raw", new Uint8Array([1]))
      assert.deepStrictEqual(held.get("default", dataKey), new Uint8Array([2]))
      assert.isUndefined(engine.get("default", dataKey))
      assert.deepStrictEqual(yield* tickRound, ["answered", "write unsynced"])
      assert.strictEqual(held.size, 0)
      assert.deepStrictEqual(engine.get("default", dataKey), new Uint8Array([2]))
      assert.strictEqual(RaftApplyStateCodec.decode(engine.get("meta", applyKey)!).appliedIndex, last)
    })
  )

  it.effect("a one-member region answers a put only after the synced write of its entry", () =>
    Effect.gen(function* () {
      const { peer, round, watched } = yield* recorder(ONE_MEMBER)
      peer.rawNode.campaign()
      for (let i = 0; i < 4 && !peer.isLeader; i++) yield* round
      assert.isTrue(peer.isLeader)
      yield* round // the leader's empty entry
      const answer = yield* Deferred.make<RaftCmdResponse>()
      watched.push(answer)
      peer.propose(putCommand(ONE_MEMBER), answer)
      // appended and committed in the same Ready: the answer waits for the write that makes it durable
      assert.deepStrictEqual(yield* round, ["write synced"])
      assert.isTrue(yield* Deferred.isDone(answer))
      assert.isUndefined((yield* Deferred.await(answer)).header.error)
    })
  )

  it.effect("a round's commands go out as one append, in order, with the store's own proposals in place", () =>
    Effect.gen(function* () {
      const { peer, round, sent } = yield* recorder(REGION)
      peer.rawNode.campaign()
      for (let i = 0; i < 4 && !peer.isLeader; i++) {
        yield* round
        for (const v of sent()) {
          const m = v.message
          if (m.msgType === "MsgPreVote") peer.rawNode.step(reply(m, "MsgPreVoteResponse"))
          if (m.msgType === "MsgRequestVote") peer.rawNode.step(reply(m, "MsgRequestVoteResponse"))
        }
      }
      assert.isTrue(peer.isLeader)
      yield* round // the leader's empty entry
      const keysOf = (appends: ReadonlyArray<RaftMessage>) =>
        appends.flatMap((a) =>
          a.message.entries.map((e) => {
            const r = RaftCmdCodec.decode(e.data).requests[0]
            return r?._tag === "Put" ? r.key[0] : "own"
          })
        )
      const answers = yield* Effect.forEach([1, 2, 3, 4, 5, 6, 7], () => Deferred.make<RaftCmdResponse>())
      for (const k of [1, 2, 3, 4]) peer.propose(putCommand(REGION, k), answers[k - 1]!)
      yield* round
      const appends = sent().filter((m) => m.message.msgType === "MsgAppend")
      assert.lengthOf(appends, 1, "one append for the follower, not one per command")
      assert.deepStrictEqual(keysOf(appends), [1, 2, 3, 4])
      // the store's own proposal (a log compaction) goes in after the commands taken before it
      peer.propose(putCommand(REGION, 5), answers[4]!)
      peer.proposeInternal({ ...putCommand(REGION), requests: [] })
      peer.propose(putCommand(REGION, 6), answers[5]!)
      peer.propose(putCommand(REGION, 7), answers[6]!)
      yield* round
      assert.deepStrictEqual(keysOf(sent().filter((m) => m.message.msgType === "MsgAppend")), [5, "own", 6, 7])
    })
  )

  it.effect(
    "a follower's round writes as idle (its acknowledgement waits for it); a leader's, after its sends, not",
    () =>
      Effect.gen(function* () {
        const { peer, round, sent, lastIdle } = yield* recorder(REGION)
        // peer 2 leads term 6 and appends an entry after the initial log (index 5, term 5)
        const append: Message = {
          msgType: "MsgAppend",
          from: 2 as PeerId,
          to: 1 as PeerId,
          term: 6,
          logTerm: 5,
          index: 5,
          entries: [{ entryType: "EntryNormal", term: 6, index: 6, data: new Uint8Array() }],
          commit: 5,
          reject: false
        }
        peer.rawNode.step(append)
        assert.deepStrictEqual(yield* round, ["write synced", "send MsgAppendResponse"])
        assert.isTrue(lastIdle())
        const ack = sent().find((m) => m.message.msgType === "MsgAppendResponse")?.message
        assert.strictEqual(ack?.index, 6, "acknowledged after the write")

        // the same peer as a leader: its appends go out first, so its write is not idle
        const leader = yield* recorder(REGION)
        leader.peer.rawNode.campaign()
        for (let i = 0; i < 4 && !leader.peer.isLeader; i++) {
          yield* leader.round
          for (const v of leader.sent()) {
            const m = v.message
            if (m.msgType === "MsgPreVote") leader.peer.rawNode.step(reply(m, "MsgPreVoteResponse"))
            if (m.msgType === "MsgRequestVote") leader.peer.rawNode.step(reply(m, "MsgRequestVoteResponse"))
          }
        }
        assert.isTrue(leader.peer.isLeader)
        assert.deepStrictEqual(yield* leader.round, ["send MsgAppend", "write synced"])
        assert.isFalse(leader.lastIdle())
      })
  )
})
