/** The admin RPCs over TCP (what `tinykv ctl` uses), and the coordinator of a served scheduler. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { makeCtlClient } from "../../src/cli/ctlClient.js"
import { regionId, storeId } from "../../src/protocol/ids.js"
import { heartbeat, key, peer, region, stats, store } from "./fixtures.js"
import { eventually, startScheduler } from "./support.js"

const header = { clusterId: 0 }
const r1 = region(1, "", "", { peers: [peer(11, 1), peer(12, 2), peer(13, 3)], confVer: 3 })

describe("admin RPCs over TCP", () => {
  it.scopedLive("stores with stats and status, region details, operators added, listed and dispatched, splits", () =>
    Effect.gen(function* () {
      const { address, scheduler: s } = yield* startScheduler()
      yield* s.bootstrap({ header, store: store(1), region: r1 })
      for (const id of [2, 3, 4]) yield* s.putStore({ header, store: store(id) })
      yield* s.storeHeartbeat({ header, stats: stats(1, { capacity: 1000, available: 400 }) })
      yield* s.regionHeartbeat({ header, ...heartbeat(r1, peer(11, 1), [], 5 << 20) })
      const ctl = yield* makeCtlClient(address)

      const stores = yield* ctl.call("GetAllStores", (rpc, h) =>
        rpc.GetAllStores({ header: h, excludeTombstoneStores: false })
      )
      assert.deepStrictEqual(
        stores.details.map((d) => [d.store.id, d.status, d.regionCount, d.leaderCount, d.stats?.capacity ?? null]),
        [
          [1, "Up", 1, 1, 1000],
          [2, "Up", 1, 0, null],
          [3, "Up", 1, 0, null],
          [4, "Up", 0, 0, null]
        ]
      )
      const regions = yield* ctl.call("ScanRegionDetails", (rpc, h) =>
        rpc.ScanRegionDetails({ header: h, startKey: new Uint8Array(), endKey: new Uint8Array(), limit: 0 })
      )
      assert.deepStrictEqual(
        regions.regions.map((d) => [d.region.id, d.leader?.storeId, d.approximateSize]),
        [[1, 1, 5]]
      )

      const add = (kind: "transfer-leader" | "add-peer" | "remove-peer", region: number, store: number) =>
        ctl.call("AddOperator", (rpc, h) =>
          rpc.AddOperator({ header: h, regionId: regionId(region), kind, storeId: storeId(store) })
        )
      const op = yield* add("transfer-leader", 1, 2)
      assert.deepStrictEqual([op.kind, op.status, op.steps[0]?._tag], ["admin", "RUNNING", "TransferLeader"])
      const step = yield* s.regionHeartbeat({ header, ...heartbeat(r1, peer(11, 1)) })
      assert.deepStrictEqual(Option.getOrUndefined(step)?.transferLeader?.peer, peer(12, 2))
      // leadership moved: the operator is done
      yield* s.regionHeartbeat({ header, ...heartbeat(r1, peer(12, 2)) })
      const listed = yield* ctl.call("ListOperators", (rpc, h) => rpc.ListOperators({ header: h }))
      assert.deepStrictEqual(
        listed.operators.map((o) => [o.regionId, o.status, o.currentStep]),
        [[1, "SUCCESS", 1]]
      )

      const refused = (e: Effect.Effect<unknown, { message: string }>) => Effect.map(Effect.flip(e), (x) => x.message)
      assert.include(yield* refused(add("add-peer", 1, 1)), "already has peer")
      assert.include(yield* refused(add("remove-peer", 1, 4)), "no peer on store 4")
      assert.include(yield* refused(add("add-peer", 99, 4)), "region 99 not found")
      assert.include(yield* refused(add("add-peer", 1, 9)), "store 9 not found")

      const split = (splitKey?: Uint8Array) =>
        ctl.call("SplitRegion", (rpc, h) =>
          rpc.SplitRegion(
            splitKey === undefined
              ? { header: h, regionId: regionId(1) }
              : { header: h, regionId: regionId(1), splitKey }
          )
        )
      assert.include(yield* refused(split(new Uint8Array())), "not strictly inside")
      const sp = yield* split(key("m"))
      assert.deepStrictEqual([sp.kind, sp.status], ["split", "RUNNING"])
      const splitStep = yield* s.regionHeartbeat({ header, ...heartbeat(r1, peer(12, 2)) })
      assert.deepStrictEqual(
        Option.getOrUndefined(splitStep)?.splitRegion?.keys.map((k) => Buffer.from(k).toString()),
        ["m"]
      )
    })
  )

  it.scopedLive("a served scheduler's coordinator adds the missing replicas (region heartbeat answers)", () =>
    Effect.gen(function* () {
      const { scheduler: s } = yield* startScheduler({ scheduleInterval: "50 millis" })
      const lonely = region(1, "", "", { peers: [peer(11, 1)] })
      yield* s.bootstrap({ header, store: store(1), region: lonely })
      for (const id of [2, 3]) yield* s.putStore({ header, store: store(id) })
      const step = yield* eventually(
        Effect.map(s.regionHeartbeat({ header, ...heartbeat(lonely, peer(11, 1)) }), Option.getOrUndefined)
      )
      assert.deepStrictEqual([step.changePeer?.changeType, step.changePeer?.peer.storeId], ["AddNode", storeId(2)])
    })
  )
})
