/**
 * Reads through ReadIndex (`src/raftstore/readQueue.ts`, `readIndexServe.ts`): a `Snap`-only command is not
 * proposed; the leader confirms with a quorum of heartbeats that it still leads and answers once it has
 * applied the confirmed index. The older path (`readPath: "log"`) stays selectable; both must be
 * linearizable.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Either, Fiber, Layer } from "effect"
import { TinyKvClient } from "../../src/index.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import type { Peer as PeerMeta } from "../../src/protocol/metapb.js"
import type { ReadPath } from "../../src/raftstore/config.js"
import { sendRead } from "../../src/raftstore/readSnapshot.js"
import { checkLinearizable } from "../../src/testing/linearizability/checker.js"
import { HistoryRecorder } from "../../src/testing/linearizability/history.js"
import { type KvInput, type KvOutput, kvModel } from "../../src/testing/linearizability/kvModel.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { commandFor, REGION_1, waitLeader, waitStableLeader } from "./helpers.js"

const KEY = physicalKey("raw", utf8("k"))

/** A linearizable read sent straight to `peer`: its error tag, or the value its engine snapshot holds. */
const readAt = (cluster: TestCluster, peer: PeerMeta, timeoutMs = 10_000) =>
  Effect.scoped(
    Effect.gen(function* () {
      const store = cluster.store(peer.storeId)
      if (store === undefined) return yield* Effect.dieMessage(`store ${peer.storeId} is not running`)
      const { response, reader } = yield* sendRead(store.router, commandFor(cluster, peer, [{ _tag: "Snap" }]))
      const error = response.header.error?._tag
      const value = reader?.get("default", KEY)
      return { error, value: value === undefined ? undefined : fromUtf8(value), term: response.header.currentTerm }
    })
  ).pipe(Effect.timeoutFail({ duration: `${timeoutMs} millis`, onTimeout: () => "timeout" as const }))

const peerOf = (cluster: TestCluster, storeId: number) => cluster.store(storeId as StoreId)?.peers.get(REGION_1)

describe("raftstore reads through ReadIndex", () => {
  for (const readPath of ["readIndex", "log"] as const) {
    it.live(
      `${readPath}: the log's last index ${readPath === "log" ? "moves by one per read" : "does not move across reads"}`,
      () =>
        Effect.gen(function* () {
          const seed = testSeed()
          // no log GC during the count: a CompactLog is an entry too
          const cluster = yield* TestCluster.make({ stores: 3, seed, config: { readPath, raftLogGcTicks: 1_000_000 } })
          yield* cluster.start
          yield* cluster.mustPut("k", "v")
          const leader = yield* waitStableLeader(cluster)
          const peer = peerOf(cluster, leader.storeId)!
          const log = peer.rawNode.raft.raftLog
          const term = peer.term
          const before = log.lastIndex()
          const reads = 20
          for (let i = 0; i < reads; i++) {
            const r = yield* readAt(cluster, leader)
            assert.deepStrictEqual(r, { error: undefined, value: "v", term }, `seed ${seed}, read ${i}`)
          }
          assert.strictEqual(peer.term, term, `seed ${seed}: the leader changed during the reads`)
          assert.strictEqual(log.lastIndex() - before, readPath === "log" ? reads : 0, `seed ${seed}`)
          assert.strictEqual(peer.reads.size, 0, "no read left behind")
        }).pipe(Effect.scoped)
    )
  }

  it.live(
    "a leader cut off in a minority never serves a read: it cannot confirm the read index",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        // CheckQuorum off: it would depose the cut-off leader one election timeout after the cut, a race with
        // the new leader's write on a busy machine; without it the old leader keeps believing it leads, and
        // ReadIndex alone must keep its reads from being served
        const cluster = yield* TestCluster.make({ stores: 5, seed, config: { checkQuorum: false } })
        yield* cluster.start
        yield* cluster.mustPut("k", "old")
        for (const id of cluster.storeIds) yield* cluster.mustEngineHave(id, "k", "old")
        const oldLeader = yield* waitStableLeader(cluster)
        assert.deepStrictEqual((yield* readAt(cluster, oldLeader)).value, "old")
        const follower = cluster.storeIds.find((id) => id !== oldLeader.storeId)!
        const minority = [oldLeader.storeId, follower]
        const majority = cluster.storeIds.filter((id) => !minority.includes(id))
        yield* cluster.partition(minority, majority)

        const newLeader = yield* waitLeader(cluster, REGION_1, majority)
        yield* cluster.mustPut("k", "new")
        // the old leader has heard nothing of the new term: it still believes it leads
        const old = peerOf(cluster, oldLeader.storeId)!
        assert.isTrue(old.isLeader, `seed ${seed}`)
        const lastBefore = old.rawNode.raft.raftLog.lastIndex()

        // its read is never confirmed: answered ServerIsBusy once the command timeout has passed; never "old"
        const stale = yield* readAt(cluster, oldLeader)
        assert.strictEqual(stale.error, "ServerIsBusy", `seed ${seed}: ${JSON.stringify(stale)}`)
        assert.isUndefined(stale.value, `seed ${seed}`)
        assert.strictEqual(old.reads.size, 0, "the expired read is forgotten")
        assert.strictEqual(old.rawNode.raft.raftLog.lastIndex(), lastBefore, "a read appends nothing")

        // one more read is in flight when the partition heals: the old leader steps down and answers NotLeader
        const pending = yield* Effect.fork(readAt(cluster, oldLeader))
        yield* Effect.yieldNow()
        yield* cluster.clearFilters
        const late = yield* Effect.either(Fiber.join(pending))
        assert.isTrue(Either.isRight(late), `seed ${seed}`)
        if (Either.isRight(late)) {
          assert.include(["NotLeader", "ServerIsBusy"], late.right.error, `seed ${seed}: ${JSON.stringify(late.right)}`)
          assert.isUndefined(late.right.value, `seed ${seed}`)
        }
        assert.strictEqual((yield* readAt(cluster, newLeader)).value, "new", `seed ${seed}`)
      }).pipe(Effect.scoped),
    60_000
  )

  const linearizableRun = (readPath: ReadPath) =>
    Effect.gen(function* () {
      const seed = testSeed()
      const cluster = yield* TestCluster.make({ stores: 3, seed, config: { readPath } })
      yield* cluster.start
      const history = new HistoryRecorder<KvInput, KvOutput>()
      const keys = ["a", "b"]
      let counter = 0
      let gets = 0
      // two clients, each with its own region cache: one writes and reads, the other only reads, so after the
      // leader is cut off the reader keeps asking the old leader for as long as that one answers
      const writer = yield* Layer.build(cluster.clientLayer({ deadline: "10 seconds" })).pipe(
        Effect.map(Context.get(TinyKvClient))
      )
      const reader = yield* Layer.build(cluster.clientLayer({ deadline: "10 seconds" })).pipe(
        Effect.map(Context.get(TinyKvClient))
      )
      const get = (kv: TinyKvClient["Type"], client: number, key: string) =>
        Effect.gen(function* () {
          const id = history.invoke(client, { kind: "get", key })
          const r = yield* Effect.either(kv.rawGet(key))
          if (Either.isLeft(r)) return history.indefinite(id)
          gets++
          history.ok(id, { kind: "value", value: r.right === undefined ? undefined : fromUtf8(r.right) })
        })
      const put = (kv: TinyKvClient["Type"], client: number, key: string) =>
        Effect.gen(function* () {
          const value = `${client}-${counter++}`
          const id = history.invoke(client, { kind: "put", key, value })
          const r = yield* Effect.either(kv.rawPut(key, value))
          if (Either.isRight(r)) history.ok(id, { kind: "done" })
          else history.indefinite(id)
        })
      // four fibers per phase, a fixed number of operations each: 0 and 1 write and read, 2 and 3 only read
      const phase = (opsPerFiber: number) =>
        Effect.forEach(
          [0, 1, 2, 3],
          (client) =>
            Effect.gen(function* () {
              for (let i = 0; i < opsPerFiber; i++) {
                const key = keys[(client + i) % keys.length]!
                if (client >= 2) yield* get(reader, client, key)
                else if (i % 2 === 0) yield* put(writer, client, key)
                else yield* get(writer, client, key)
              }
            }),
          { concurrency: "unbounded", discard: true }
        )
      yield* phase(10)
      // the leader is cut off: a new one is elected, the old one must serve nothing stale meanwhile
      const leader = yield* waitLeader(cluster)
      yield* cluster.isolate(leader.storeId)
      yield* phase(15)
      yield* cluster.clearFilters
      yield* phase(10)
      const result = checkLinearizable(kvModel, history.operations())
      assert.strictEqual(
        result._tag,
        "Ok",
        `seed ${seed}, ${readPath}: ${result._tag === "Illegal" ? result.report : ""}`
      )
      assert.isAbove(gets, 20, `seed ${seed}: reads were answered`)
    }).pipe(Effect.scoped)
  it.live(
    "readIndex: concurrent clients across a leader isolation see a linearizable history",
    () => linearizableRun("readIndex"),
    120_000
  )
  it.live("log: the same history check on reads through the log", () => linearizableRun("log"), 120_000)

  it.live("a follower answers a read NotLeader, naming the leader", () =>
    Effect.gen(function* () {
      const cluster = yield* TestCluster.make({ stores: 3, seed: testSeed() })
      yield* cluster.start
      yield* cluster.mustPut("k", "v")
      const leader = yield* waitStableLeader(cluster)
      const followerStore = cluster.storeIds.find((id) => id !== leader.storeId)!
      const follower = peerOf(cluster, followerStore)!.meta
      const r = yield* readAt(cluster, follower)
      assert.strictEqual(r.error, "NotLeader")
      assert.isUndefined(r.value)
    }).pipe(Effect.scoped)
  )
})
