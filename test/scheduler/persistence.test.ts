/** A scheduler restarted on the same lmdb directory keeps its cluster, stores, regions, ids and timestamps. */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeClientLocal } from "../../src/layers/schedulerClientLocal.js"
import { layerSchedulerData } from "../../src/layers/schedulerServer.js"
import { Scheduler } from "../../src/scheduler/service.js"
import { heartbeat, key, peer, region, rid, sid, store, withEpoch } from "./fixtures.js"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "tinykv-scheduler-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

/** One scheduler lifetime on `dir`: the engine is closed when `f` ends. */
const run = <A, E>(dir: string, f: (s: Scheduler["Type"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(Scheduler, f).pipe(Effect.provide(layerSchedulerData(dir)), Effect.scoped)

describe("persistence on lmdb", () => {
  it.scopedLive("cluster, stores, regions, ids, timestamps and the GC safe point survive a restart", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const r1 = region(1, "", "", { peers: [peer(1, 1), peer(2, 2)] })
      const first = yield* run(dir, (s) =>
        Effect.gen(function* () {
          const c = makeClientLocal(s)
          yield* c.bootstrap(store(1), r1)
          yield* c.putStore(store(2))
          yield* c.putStore(store(3))
          yield* s.setStoreState(sid(3), "Tombstone")
          // region 1 splits into 1 [, m) and 5 [m, )
          const split = yield* c.askSplit(r1)
          const left = withEpoch({ ...r1, endKey: key("m") }, 1, 2)
          const right = withEpoch(
            {
              ...r1,
              id: split.newRegionId,
              startKey: key("m"),
              peers: [peer(split.newPeerIds[0]!, 1), peer(split.newPeerIds[1]!, 2)]
            },
            1,
            2
          )
          yield* c.regionHeartbeat(heartbeat(left))
          yield* c.regionHeartbeat(heartbeat(right))
          yield* s.updateGcSafePoint({ header: { clusterId: 0 }, safePoint: 77n as never })
          const ids = yield* Effect.all([c.allocId, c.allocId])
          return { clusterId: s.clusterId, ids, ts: yield* c.tso(1), right }
        })
      )
      yield* run(dir, (s) =>
        Effect.gen(function* () {
          const c = makeClientLocal(s)
          assert.strictEqual(s.clusterId, first.clusterId)
          assert.isTrue(yield* c.isBootstrapped)
          assert.deepStrictEqual(
            (yield* c.getAllStores()).map((st) => [st.id as number, st.state]),
            [
              [1, "Up"],
              [2, "Up"],
              [3, "Tombstone"]
            ]
          )
          assert.strictEqual((yield* c.getStore(sid(2))).address, store(2).address)
          const left = yield* c.getRegion(key("a"))
          assert.strictEqual(left?.region.id, 1)
          assert.deepStrictEqual(left?.region.regionEpoch, { confVer: 1, version: 2 })
          assert.isUndefined(left?.leader, "leaders are soft state, rebuilt by heartbeats")
          const right = yield* c.getRegion(key("z"))
          assert.deepStrictEqual(right?.region.peers, first.right.peers)
          assert.strictEqual((yield* c.scanRegions(key(""), key(""))).length, 2)
          // store statistics are rebuilt from the persisted regions
          const info = yield* s.inspect((core) => core.getStore(sid(2)))
          assert.strictEqual(info._tag === "Right" ? info.right.regionCount : -1, 2)
          const id = yield* c.allocId
          assert.isTrue(first.ids.every((old) => id > old))
          assert.isTrue((yield* c.tso(1)) > first.ts)
          assert.strictEqual((yield* s.getGcSafePoint({ header: { clusterId: 0 } })).safePoint, 77n)
          const e = yield* Effect.flip(c.bootstrap(store(1), r1))
          assert.strictEqual(e._tag === "SchedulerError" ? e.type : "", "ALREADY_BOOTSTRAPPED")
          // a stale report of the pre-split region is still rejected after the restart
          const stale = yield* Effect.flip(c.regionHeartbeat(heartbeat(r1)))
          assert.strictEqual(stale._tag === "SchedulerError" ? stale.type : "", "STALE_REGION")
          assert.isDefined(yield* c.getRegionById(rid(first.right.id)))
        })
      )
    })
  )

  it.scopedLive("an empty directory starts unbootstrapped with a fresh cluster id", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const a = yield* run(dir, (s) => Effect.succeed(s.clusterId))
      const b = yield* run(dir, (s) =>
        Effect.map(makeClientLocal(s).isBootstrapped, (boot) => ({ id: s.clusterId, boot }))
      )
      assert.strictEqual(b.id, a, "the cluster id is chosen once")
      assert.isFalse(b.boot)
      assert.isAbove(a, 0)
    })
  )
})
