/** `layerClientRpc` against `layerServer`'s RPC stack on a free port: every call, errors, unavailability. */
import { mkdtemp, rm } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { NodeSocket } from "@effect/platform-node"
import { RpcClient } from "@effect/rpc"
import { layerFramedMsgPack } from "../../src/rpc/framedMsgPack.js"
import { Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import { parseAddress } from "../../src/client/storeConnection.js"
import { timestamp } from "../../src/protocol/ids.js"
import { SchedulerRpcs } from "../../src/protocol/schedulerRpcs.js"
import { makeClientRpc } from "../../src/layers/schedulerClientRpc.js"
import { SchedulerUnavailable } from "../../src/services/SchedulerClient.js"
import { heartbeat, key, peer, region, rid, sid, stats, store, withEpoch } from "./fixtures.js"
import { eventually, startScheduler } from "./support.js"

describe("scheduler over RPC", () => {
  it.scopedLive("a store's calls round-trip through TCP + msgpack", () =>
    Effect.gen(function* () {
      const { address, scheduler } = yield* startScheduler()
      const c = yield* makeClientRpc({ address })
      assert.isFalse(yield* c.isBootstrapped)
      const notYet = yield* Effect.flip(c.getStore(sid(1)))
      assert.strictEqual(notYet._tag === "SchedulerError" ? notYet.type : notYet._tag, "NOT_BOOTSTRAPPED")
      const storeId = yield* c.allocId
      const regionId = yield* c.allocId
      const peerId = yield* c.allocId
      const r1 = region(regionId, "", "", { peers: [peer(peerId, storeId)] })
      yield* c.bootstrap(store(storeId), r1)
      const again = yield* Effect.flip(c.bootstrap(store(storeId), r1))
      assert.strictEqual(again._tag === "SchedulerError" ? again.type : again._tag, "ALREADY_BOOTSTRAPPED")
      assert.isTrue(yield* c.isBootstrapped)
      assert.strictEqual((yield* c.getStore(sid(storeId))).address, store(storeId).address)
      yield* c.putStore(store(storeId + 100))
      assert.strictEqual((yield* c.getAllStores({ excludeTombstones: true })).length, 2)
      yield* c.storeHeartbeat(stats(storeId))
      assert.isTrue(Option.isNone(yield* c.regionHeartbeat(heartbeat(r1, peer(peerId, storeId), [], 5 << 20))))
      const found = yield* c.getRegion(key("hello"))
      assert.strictEqual(found?.region.id, regionId)
      assert.deepStrictEqual(found?.leader, peer(peerId, storeId))
      assert.isTrue(found!.region.startKey instanceof Uint8Array)
      assert.strictEqual((yield* c.getRegionById(rid(regionId)))?.region.id, regionId)
      // split at "m" and report both halves
      const split = yield* c.askSplit(r1)
      assert.strictEqual(split.newPeerIds.length, 1)
      const left = withEpoch({ ...r1, endKey: key("m") }, 1, 2)
      const right = withEpoch(
        { ...r1, id: split.newRegionId, startKey: key("m"), peers: [peer(split.newPeerIds[0]!, storeId)] },
        1,
        2
      )
      yield* c.reportSplit(left, right)
      yield* c.regionHeartbeat(heartbeat(left))
      yield* c.regionHeartbeat(heartbeat(right))
      const scanned = yield* c.scanRegions(key("a"), key(""), 10)
      assert.deepStrictEqual(
        scanned.map((r) => r.region.id as number),
        [regionId, split.newRegionId]
      )
      const stale = yield* Effect.flip(c.regionHeartbeat(heartbeat(r1)))
      assert.strictEqual(stale._tag === "SchedulerError" ? stale.type : stale._tag, "STALE_REGION")
      // an operator step comes back as the heartbeat's answer
      yield* scheduler.addOperator(rid(regionId), "transfer", [
        { _tag: "AddPeer", toStore: sid(storeId + 100), peerId: 999 as never }
      ])
      const step = yield* c.regionHeartbeat(heartbeat(left))
      assert.deepStrictEqual(Option.getOrThrow(step).changePeer, {
        peer: peer(999, storeId + 100),
        changeType: "AddNode"
      })
      const t1 = yield* c.tso(1)
      const t2 = yield* c.tso(100)
      assert.isTrue(t2 > t1 && typeof t2 === "bigint")
    })
  )

  it.scopedLive("many concurrent heartbeats and id allocations are serialized without loss", () =>
    Effect.gen(function* () {
      const { address } = yield* startScheduler()
      const c = yield* makeClientRpc({ address })
      yield* c.bootstrap(store(1), region(1, "", new Uint8Array([0, 0]), { peers: [peer(1, 1)] }))
      // 500 contiguous one-peer regions reported concurrently (TestConcurrentHandleRegion3C, smaller)
      yield* Effect.forEach(
        Array.from({ length: 500 }, (_, i) => i + 1),
        (i) =>
          c.regionHeartbeat(
            heartbeat(
              region(i + 1, new Uint8Array([i >> 8, i & 255]), new Uint8Array([(i + 1) >> 8, (i + 1) & 255]), {
                peers: [peer(i + 1, 1)]
              })
            )
          ),
        { concurrency: 64, discard: true }
      )
      assert.strictEqual((yield* c.scanRegions(new Uint8Array(), new Uint8Array())).length, 501)
      const ids = yield* Effect.all(
        Array.from({ length: 200 }, () => c.allocId),
        { concurrency: 50 }
      )
      assert.strictEqual(new Set(ids).size, 200)
    })
  )

  it.scopedLive("a scheduler that is not there is SchedulerUnavailable after the deadline", () =>
    Effect.gen(function* () {
      // a port that was just free: bind it, then close the listener
      const port = yield* Effect.scoped(Effect.map(startScheduler(), (s) => s.port))
      const c = yield* makeClientRpc({ address: `127.0.0.1:${port}`, timeout: "200 millis", deadline: "600 millis" })
      const started = Date.now()
      const e = yield* Effect.flip(c.allocId)
      assert.instanceOf(e, SchedulerUnavailable)
      const elapsed = Date.now() - started
      assert.isAtLeast(elapsed, 400, "it retried")
      assert.isBelow(elapsed, 3000)
    })
  )

  it.scopedLive("a client rides out a scheduler restart (same port, same data)", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "tinykv-scheduler-rpc-"))),
        (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
      )
      const firstRun = yield* Scope.make()
      const { address, port } = yield* startScheduler({ dataDir: dir }).pipe(Scope.extend(firstRun))
      const c = yield* makeClientRpc({ address, timeout: "500 millis", deadline: "8 seconds" })
      const before = yield* c.tso(1)
      yield* Scope.close(firstRun, Exit.void)
      // while the scheduler is down a stand-in holds its port and hangs up on every connection: the
      // scheduler comes back only after the call has been refused at least twice, so it must retry
      let refused = 0
      const standIn = createServer((socket) => {
        refused++
        socket.destroy()
      })
      yield* Effect.async<void>((resume) => {
        standIn.listen(port, "127.0.0.1", () => resume(Effect.void))
      })
      const fiber = yield* Effect.fork(c.tso(1))
      yield* eventually(Effect.sync(() => (refused >= 2 ? true : undefined)))
      yield* Effect.async<void>((resume) => {
        standIn.close(() => resume(Effect.void))
      })
      yield* startScheduler({ dataDir: dir, port })
      const after = yield* Fiber.join(fiber)
      assert.isTrue(after > before, "same cluster id accepted, timestamps still increasing")
    })
  )

  it.scopedLive("the admin and helper RPCs answer over the wire", () =>
    Effect.gen(function* () {
      const { address } = yield* startScheduler()
      const { host, port } = parseAddress(address)
      const ctx = yield* Layer.build(
        RpcClient.layerProtocolSocket().pipe(
          Layer.provide(NodeSocket.layerNet({ host, port })),
          Layer.provide(layerFramedMsgPack)
        )
      )
      const rpc = yield* RpcClient.make(SchedulerRpcs, { disableTracing: true }).pipe(Effect.provide(ctx))
      const members = yield* rpc.GetMembers({ header: { clusterId: 0 } })
      const header = { clusterId: members.header.clusterId }
      assert.isAbove(header.clusterId, 0)
      assert.strictEqual(members.leader.name, "scheduler")
      const notYet = yield* Effect.flip(rpc.GetClusterConfig({ header }))
      assert.strictEqual(notYet._tag === "SchedulerError" ? notYet.type : notYet._tag, "NOT_BOOTSTRAPPED")
      yield* rpc.Bootstrap({ header, store: store(1), region: region(1, "", "m", { peers: [peer(1, 1)] }) })
      yield* rpc.RegionHeartbeat({ header, ...heartbeat(region(2, "m", "", { peers: [peer(2, 1)] })) })
      assert.strictEqual((yield* rpc.GetPrevRegion({ header, regionKey: key("x") })).region?.id, 1)
      const config = yield* rpc.GetClusterConfig({ header })
      assert.deepStrictEqual(config.cluster, { id: header.clusterId, maxPeerCount: 3 })
      yield* rpc.PutClusterConfig({ header, cluster: { ...config.cluster, maxPeerCount: 5 } })
      assert.strictEqual((yield* rpc.GetClusterConfig({ header })).cluster.maxPeerCount, 5)
      assert.strictEqual((yield* rpc.UpdateGcSafePoint({ header, safePoint: timestamp(10) })).safePoint, 10n)
      assert.strictEqual((yield* rpc.UpdateGcSafePoint({ header, safePoint: timestamp(3) })).safePoint, 10n)
      assert.strictEqual((yield* rpc.GetGcSafePoint({ header })).safePoint, 10n)
      const noOp = yield* Effect.flip(rpc.GetOperator({ header, regionId: rid(1) }))
      assert.strictEqual(noOp._tag === "SchedulerError" ? noOp.type : noOp._tag, "REGION_NOT_FOUND")
      const wrong = yield* Effect.flip(rpc.AllocId({ header: { clusterId: header.clusterId + 1 } }))
      assert.match(wrong._tag === "SchedulerError" ? wrong.message : "", /mismatch cluster id/)
    })
  )
})
