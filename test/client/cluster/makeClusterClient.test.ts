/** `makeClusterClient({ scheduler })` end to end with a real scheduler over RPC and a fake store. */
import { SocketServer } from "@effect/platform/SocketServer"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { makeClusterClient } from "../../../src/client/cluster/clusterClient.js"
import { connectScheduler } from "../../../src/rpc/schedulerConnection.js"
import { layerServer } from "../../../src/layers/schedulerServer.js"
import { fromUtf8, utf8 } from "../../../src/protocol/bytes.js"
import { storeId } from "../../../src/protocol/ids.js"
import { deadAddress, makeRegion, makeShared, peerOf, startFakeStore, Topology } from "./fakeCluster.js"

const startScheduler = Effect.gen(function* () {
  const ctx = yield* Layer.build(layerServer({ host: "127.0.0.1", port: 0, dataDir: undefined }))
  const bound = Context.get(ctx, SocketServer).address
  if (bound._tag !== "TcpAddress") return yield* Effect.die("expected a TCP address")
  return `127.0.0.1:${bound.port}`
})

describe("makeClusterClient", () => {
  it.scopedLive("finds a store through the scheduler and serves raw and transactional requests", () =>
    Effect.gen(function* () {
      const scheduler = yield* startScheduler
      const t = new Topology()
      const region = makeRegion(1, "", "", [1])
      t.setRegion(region, 1)
      const store = yield* startFakeStore(t, 1, yield* makeShared)
      // what a store does on start: bootstrap the cluster, then report itself leader of the region
      const admin = yield* connectScheduler({ address: scheduler })
      yield* admin.bootstrap({ id: storeId(1), address: store.address, state: "Up" }, region)
      yield* admin.regionHeartbeat({ region, leader: peerOf(1, 1), pendingPeers: [], approximateSize: 0 })

      const kv = yield* makeClusterClient({ scheduler })
      yield* kv.rawPut("hello", "world")
      assert.strictEqual(fromUtf8((yield* kv.rawGet("hello"))!), "world")
      assert.deepStrictEqual(
        (yield* kv.rawScan("")).map((p) => fromUtf8(p.key)),
        ["hello"]
      )
      yield* kv.transact((txn) => txn.set(utf8("t"), utf8("1")))
      const txn = yield* kv.begin()
      assert.deepStrictEqual(Option.map(yield* txn.get(utf8("t")), fromUtf8), Option.some("1"))
      assert.isTrue(t.calls.every((c) => c.context?.regionId === region.id && c.store === 1))
    })
  )

  it.scopedLive("several scheduler addresses: the client fails over from one that is down to the next", () =>
    Effect.gen(function* () {
      const scheduler = yield* startScheduler
      const down = yield* deadAddress
      const t = new Topology()
      const region = makeRegion(1, "", "", [1])
      t.setRegion(region, 1)
      const store = yield* startFakeStore(t, 1, yield* makeShared)
      const admin = yield* connectScheduler({ address: scheduler })
      yield* admin.bootstrap({ id: storeId(1), address: store.address, state: "Up" }, region)
      yield* admin.regionHeartbeat({ region, leader: peerOf(1, 1), pendingPeers: [], approximateSize: 0 })

      // the dead one first, as a comma-separated list; then as an array with the live one first
      const kv = yield* makeClusterClient({ scheduler: `${down},${scheduler}`, timeout: "500 millis" })
      yield* kv.rawPut("hello", "world")
      assert.strictEqual(fromUtf8((yield* kv.rawGet("hello"))!), "world")
      const kv2 = yield* makeClusterClient({ scheduler: [scheduler, down] })
      assert.strictEqual(fromUtf8((yield* kv2.rawGet("hello"))!), "world")
    })
  )

  it.scopedLive("a scheduler that is down: requests fail with StoreUnavailable naming it", () =>
    Effect.gen(function* () {
      const scheduler = yield* deadAddress
      const kv = yield* makeClusterClient({ scheduler, deadline: "400 millis" })
      const started = yield* Clock.currentTimeMillis
      const e = yield* Effect.flip(kv.rawGet("a"))
      assert.isBelow((yield* Clock.currentTimeMillis) - started, 2000)
      assert.strictEqual(e._tag, "StoreUnavailable")
      if (e._tag === "StoreUnavailable") {
        assert.strictEqual(e.address, scheduler)
        assert.include(e.message, "scheduler")
      }
    })
  )
})
