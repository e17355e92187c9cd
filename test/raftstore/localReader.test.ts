/**
 * The local reader (`src/raftstore/localReader.ts`): a leader under its lease answers a `Snap` command on the
 * caller's fiber, from an engine snapshot at its commit index, and leaves every other case to its worker —
 * a follower, a request it would refuse, a lapsed or ended lease, a snapshot behind the commit index (a
 * round's early answers whose apply is not written yet), a lease that ran out while the snapshot opened. The
 * applies its worker holds back (`src/raftstore/deferredWrites.ts`) are read through the snapshot.
 * Whether a stale read can slip through under faults is the simulator's nemesis (`npm run sim`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import type { Peer as PeerMeta } from "../../src/protocol/metapb.js"
import type { RaftCmdRequest } from "../../src/protocol/raftCmd.js"
import { RaftApplyStateCodec } from "../../src/raftstore/codec.js"
import { testConfig } from "../../src/raftstore/config.js"
import { applyStateKey } from "../../src/raftstore/keys.js"
import { makeLocalReader } from "../../src/raftstore/localReader.js"
import { leaseNanos } from "../../src/raftstore/readLease.js"
import { sendRead } from "../../src/raftstore/readSnapshot.js"
import type { ReadLocal, ReadLocalNow } from "../../src/services/Router.js"
import { type EngineReader, Storage } from "../../src/services/Storage.js"
import { mustTransferLeader } from "../../src/testing/clusterAdmin.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { commandFor, REGION_1, type StoppedClock, waitStableLeader, withStoppedClock } from "./helpers.js"

const KEY = physicalKey("raw", utf8("k"))
const MS = 1_000_000n

/** `read`'s answer to `request`: undefined when it leaves the read to the worker, else the value of `KEY`. */
const localValue = (read: ReadLocal, request: RaftCmdRequest) =>
  Effect.scoped(
    Effect.map(read(request), (local) => {
      if (local === undefined) return undefined
      assert.strictEqual(local.response.responses[0]?._tag, "Snap")
      const v = local.reader.get("default", KEY)
      return v === undefined ? "(absent)" : fromUtf8(v)
    })
  )

/** `localValue` through `ReadLocalNow`, the same read in one synchronous call (the fast lane's). */
const nowValue = (read: ReadLocalNow, request: RaftCmdRequest) => {
  const got = read(request, (local) => {
    assert.strictEqual(local.response.responses[0]?._tag, "Snap")
    const v = local.reader.get("default", KEY)
    return v === undefined ? "(absent)" : fromUtf8(v)
  })
  return got?.value
}

/** Through the worker: a ReadIndex round, which renews the lease. */
const readByWorker = (cluster: TestCluster, peer: PeerMeta) =>
  Effect.scoped(
    Effect.map(
      sendRead(cluster.store(peer.storeId)!.router, commandFor(cluster, peer, [{ _tag: "Snap" }])),
      ({ response }) => response.header.error?._tag
    )
  )

/** A cluster of 3 with `k = v` written, its clock stopped, and the leader's lease won by one worker read. */
const setUp = (time: StoppedClock) =>
  Effect.gen(function* () {
    const seed = testSeed()
    const cluster = yield* TestCluster.make({ stores: 3, seed })
    yield* cluster.start
    yield* cluster.mustPut("k", "v")
    const leader = yield* waitStableLeader(cluster)
    const store = cluster.store(leader.storeId as StoreId)!
    const peer = store.peers.get(REGION_1)!
    assert.isUndefined(yield* readByWorker(cluster, leader), `seed ${seed}`)
    assert.isDefined(peer.leaseUntil(), `seed ${seed}: the worker's read won the lease`)
    const storage = Context.get(yield* Layer.build(cluster.storageLayer(leader.storeId as StoreId)), Storage)
    return { seed, cluster, leader, store, peer, storage, time }
  })

describe("the local reader", () => {
  it.live(
    "a leader under its lease answers on the caller's fiber, asking nobody; not once the lease lapsed or ended",
    () =>
      withStoppedClock((time) =>
        Effect.gen(function* () {
          const { seed, cluster, leader, store, peer } = yield* setUp(time)
          let asks = 0
          const readIndex = peer.rawNode.readIndex.bind(peer.rawNode)
          peer.rawNode.readIndex = (ctx) => {
            asks++
            return readIndex(ctx)
          }
          const request = commandFor(cluster, leader, [{ _tag: "Snap" }])
          for (let i = 0; i < 5; i++) {
            assert.strictEqual(yield* localValue(store.router.readLocal, request), "v")
            assert.strictEqual(nowValue(store.router.readLocalNow, request), "v")
          }
          assert.strictEqual(asks, 0, `seed ${seed}: local reads ask no quorum`)

          // what the worker would refuse is left to it: it answers the right error
          const follower = peer.region.peers.find((p) => p.storeId !== leader.storeId)!
          const followerStore = cluster.store(follower.storeId)!
          const atFollower = commandFor(cluster, follower, [{ _tag: "Snap" }])
          assert.isUndefined(yield* localValue(followerStore.router.readLocal, atFollower), "a follower")
          assert.isUndefined(nowValue(followerStore.router.readLocalNow, atFollower), "a follower, at once")
          const staleEpoch = {
            ...request,
            header: { ...request.header, regionEpoch: { ...request.header.regionEpoch, version: 0 } }
          }
          assert.isUndefined(yield* localValue(store.router.readLocal, staleEpoch), "a stale epoch")
          const otherPeer = { ...request, header: { ...request.header, peer: follower } }
          assert.isUndefined(yield* localValue(store.router.readLocal, otherPeer), "another peer's id")
          const withWrite = {
            ...request,
            requests: [...request.requests, { _tag: "Get" as const, cf: "default", key: KEY, space: "raw" as const }]
          }
          assert.isUndefined(yield* localValue(store.router.readLocal, withWrite), "not only Snap")

          // the lease lapses: the worker asks the quorum again, which renews it
          time.advance(Number(leaseNanos(testConfig.electionTicks, testConfig.baseTickMs) / MS))
          assert.isUndefined(yield* localValue(store.router.readLocal, request), "a lapsed lease")
          assert.isUndefined(nowValue(store.router.readLocalNow, request), "a lapsed lease, at once")
          assert.isUndefined(yield* readByWorker(cluster, leader))
          assert.strictEqual(asks, 1)
          assert.strictEqual(yield* localValue(store.router.readLocal, request), "v", "a renewed lease")

          // a transfer ends it for the rest of the term
          yield* mustTransferLeader(cluster, REGION_1, follower)
          assert.isUndefined(yield* localValue(store.router.readLocal, request), "after a transfer")
          assert.isUndefined(nowValue(store.router.readLocalNow, request), "after a transfer, at once")
        })
      ).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "the applies the worker holds back are read locally, before its engine has them",
    () =>
      withStoppedClock((time) =>
        Effect.gen(function* () {
          const { seed, cluster, leader, store, peer, storage } = yield* setUp(time)
          const request = commandFor(cluster, leader, [{ _tag: "Snap" }])
          // The stopped clock freezes leases, not the store's ticks, which sleep in real time; a tick's round writes
          // what is held back. So the check catches, in one synchronous step (no round runs in between), a moment
          // after the apply and before the next tick — and puts again when a tick came first.
          const observe = (value: string) => {
            if (peer.storage.appliedIndex < peer.rawNode.raft.raftLog.committed || store.engine.size === 0) return false
            const engineValue = fromUtf8(storage.readNow((engine) => engine.get("default", KEY))!)
            return engineValue === value ? false : { engineValue, local: nowValue(store.router.readLocalNow, request) }
          }
          let seen: { engineValue: string; local: string | undefined } | false = false
          let before = "v"
          let newest = "v"
          for (let attempt = 0; seen === false && attempt < 20; attempt++) {
            before = newest
            newest = `w${attempt}`
            yield* cluster.mustPut("k", newest)
            const value = newest
            seen = yield* eventually(() => observe(value), { timeout: "1 second" }).pipe(
              Effect.orElseSucceed(() => false as const)
            )
          }
          if (seen === false) return assert.fail(`seed ${seed}: no apply held back was seen in 20 puts`)
          // the engine still had the put before (a tick wrote that one), the local read the newest, held back
          assert.strictEqual(seen.engineValue, before, `seed ${seed}: not in the engine yet`)
          assert.strictEqual(seen.local, newest, `seed ${seed}: read at once, from what is held back`)
          // held back or written by now, the local read through the router sees it too
          assert.strictEqual(yield* localValue(store.router.readLocal, request), newest, `seed ${seed}`)
          // while the snapshot opened, a round wrote what was held back and a later one held back a newer apply
          // state (here: the current one again, without its data): laid over the older snapshot, that apply state
          // would vouch for data the snapshot lacks. The reader sees the write happened and leaves it to the worker
          const registry = { peers: store.peers, isClosed: store.isClosed, engine: store.engine }
          let heldAfter = -1
          const flushedWhileOpening: Storage["Type"] = {
            ...storage,
            snapshot: Effect.tap(storage.snapshot, () => {
              const held = [...store.engine.ops]
              return Effect.map(Effect.orDie(storage.write(held)), () => {
                store.engine.written()
                const applyState = RaftApplyStateCodec.encode(peer.storage.applyState)
                store.engine.defer([{ _tag: "Put", space: "meta", key: applyStateKey(REGION_1), value: applyState }])
                heldAfter = store.engine.size
              })
            })
          }
          assert.isUndefined(yield* localValue(makeLocalReader(registry, flushedWhileOpening).read, request))
          assert.strictEqual(heldAfter, 1)
          assert.strictEqual(yield* localValue(store.router.readLocal, request), newest, `seed ${seed}: written`)
        })
      ).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a snapshot behind the commit index, or a lease that ran out while it opened, leaves the read to the worker",
    () =>
      withStoppedClock((time) =>
        Effect.gen(function* () {
          const { cluster, leader, store, peer, storage } = yield* setUp(time)
          const request = commandFor(cluster, leader, [{ _tag: "Snap" }])
          const registry = { peers: store.peers, isClosed: store.isClosed, engine: store.engine }
          /** The engine, but its snapshots first run `before` and may report an apply state `behind` entries old. */
          const engine = (behind: number, before: () => void = () => {}): Storage["Type"] => {
            const lagging = (reader: EngineReader): EngineReader => ({
              ...reader,
              get: (space, key) => {
                const raw = reader.get(space, key)
                if (space !== "meta" || raw === undefined || fromUtf8(key) !== fromUtf8(applyStateKey(REGION_1))) {
                  return raw
                }
                const state = RaftApplyStateCodec.decode(raw)
                return RaftApplyStateCodec.encode({ ...state, appliedIndex: state.appliedIndex - behind })
              }
            })
            return {
              ...storage,
              snapshot: Effect.map(Effect.zipRight(Effect.sync(before), storage.snapshot), lagging),
              readNow: (f) => {
                before()
                return storage.readNow((reader) => f(lagging(reader)))
              }
            }
          }
          const both = (storage: Storage["Type"]) =>
            Effect.map(localValue(makeLocalReader(registry, storage).read, request), (local) => ({
              local,
              now: nowValue(makeLocalReader(registry, storage).readNow, request)
            }))
          assert.deepStrictEqual(yield* both(engine(0)), { local: "v", now: "v" }, "the control")
          // the round applied (and may have answered) an entry its write has not put in the engine yet
          assert.deepStrictEqual(yield* both(engine(1)), { local: undefined, now: undefined }, "a snapshot behind")
          // the process stood still between the checks and the snapshot, and the lease ran out meanwhile
          const lease = Number(leaseNanos(testConfig.electionTicks, testConfig.baseTickMs) / MS)
          const pausedWhileOpening = engine(0, () => time.advance(lease))
          assert.isUndefined(yield* localValue(makeLocalReader(registry, pausedWhileOpening).read, request), "lapsed")
          assert.isUndefined(peer.leaseUntil())
          // the same for the synchronous read, on a lease won again
          assert.isUndefined(yield* readByWorker(cluster, leader))
          assert.isDefined(peer.leaseUntil())
          const pausedAgain = engine(0, () => time.advance(lease))
          assert.isUndefined(nowValue(makeLocalReader(registry, pausedAgain).readNow, request), "lapsed, at once")
          assert.isUndefined(peer.leaseUntil())
        })
      ).pipe(Effect.scoped),
    60_000
  )
})
