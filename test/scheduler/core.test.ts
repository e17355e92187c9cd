/** The scheduler RPC semantics on the pure core: bootstrap, ids, stores, splits, operators. */
import { assert, describe, it } from "@effect/vitest"
import { SchedulerCore } from "../../src/scheduler/core.js"
import type { Result } from "../../src/scheduler/errors.js"
import { ALLOC_STEP, IdAllocator } from "../../src/scheduler/idAllocator.js"
import { decodeU64, emptyState, KEY_ALLOC_ID, WriteLog } from "../../src/scheduler/persist.js"
import { confChangeAnomaly } from "../../src/scheduler/regionInfo.js"
import {
  bootstrappedCore,
  err,
  get,
  heartbeat,
  key,
  peer,
  pid,
  region,
  rid,
  sid,
  stats,
  store,
  withEpoch
} from "./fixtures.js"

const fresh = () => new SchedulerCore(42, emptyState)
const firstRegion = region(1, "", "", { peers: [peer(2, 1)] })

describe("bootstrap", () => {
  it("works once; the second time is ALREADY_BOOTSTRAPPED", () => {
    const core = fresh()
    assert.isFalse(core.isBootstrapped())
    get(core.bootstrap(store(1), firstRegion))
    assert.isTrue(core.isBootstrapped())
    assert.strictEqual(err(core.bootstrap(store(1), firstRegion)).type, "ALREADY_BOOTSTRAPPED")
    assert.strictEqual(get(core.getStore(sid(1))).store.address, store(1).address)
    assert.strictEqual(get(core.getRegion(key("anything")))?.region.id, 1, "the first region is routable at once")
    assert.deepStrictEqual(get(core.clusterConfig()), { id: 42, maxPeerCount: 3 })
  })

  it("rejects a request that cannot start a cluster", () => {
    const core = fresh()
    assert.strictEqual(err(core.bootstrap(store(0), firstRegion)).type, "UNKNOWN")
    assert.strictEqual(err(core.bootstrap(store(1), region(0, "", "", { peers: [peer(2, 1)] }))).type, "UNKNOWN")
    assert.strictEqual(err(core.bootstrap(store(1), region(1, "", "", { peers: [peer(2, 9)] }))).type, "UNKNOWN")
    assert.strictEqual(err(core.bootstrap({ ...store(1), state: "Tombstone" }, firstRegion)).type, "STORE_TOMBSTONE")
    assert.isFalse(core.isBootstrapped())
    assert.strictEqual(core.log.take().ops.length, 0, "a failed bootstrap writes nothing")
  })

  it("store and region calls are NOT_BOOTSTRAPPED before it; ids, timestamps and the safe point work", () => {
    const core = fresh()
    const results: ReadonlyArray<Result<unknown>> = [
      core.putStore(store(1)),
      core.getStore(sid(1)),
      core.getAllStores(false),
      core.storeHeartbeat(stats(1), 0),
      core.regionHeartbeat(heartbeat(firstRegion), 0),
      core.getRegion(key("a")),
      core.getRegionById(rid(1)),
      core.scanRegions(key(""), key(""), 0),
      core.askSplit(firstRegion),
      core.clusterConfig()
    ]
    for (const r of results) {
      assert.strictEqual(err(r).type, "NOT_BOOTSTRAPPED")
    }
    assert.strictEqual(core.allocId(), 1)
    assert.isAbove(Number(get(core.tso(1, 1000))), 0)
    assert.strictEqual(core.updateGcSafePoint(5n), 5n)
  })

  it("ids given at bootstrap are never allocated later", () => {
    const core = fresh()
    get(core.bootstrap(store(7), region(9, "", "", { peers: [peer(11, 7)] })))
    assert.strictEqual(core.allocId(), 12)
  })

  it("a header for another cluster is rejected; 0 means any", () => {
    const core = fresh()
    get(core.checkHeader({ clusterId: 0 }))
    get(core.checkHeader({ clusterId: 42 }))
    assert.match(err(core.checkHeader({ clusterId: 43 })).message, /mismatch cluster id/)
  })
})

describe("id allocation", () => {
  it("ids are unique and increasing; a batch of ids costs one synced write", () => {
    const log = new WriteLog()
    const ids = new IdAllocator(0, log)
    const got = Array.from({ length: 2500 }, () => ids.alloc())
    assert.deepStrictEqual(got.slice(0, 3), [1, 2, 3])
    assert.isTrue(got.every((id, i) => i === 0 || id === got[i - 1]! + 1))
    const { ops, sync } = log.take()
    assert.strictEqual(ops.length, 3, "three batches")
    assert.isTrue(sync)
    const last = ops[ops.length - 1]!
    assert.strictEqual(last._tag === "Put" ? Number(decodeU64(last.value)) : -1, 3 * ALLOC_STEP)
    assert.deepStrictEqual(last._tag === "Put" ? Array.from(last.key) : [], Array.from(KEY_ALLOC_ID))
  })

  it("after a restart, allocation resumes above everything that may have been handed out", () => {
    const log = new WriteLog()
    const before = new IdAllocator(0, log)
    for (let i = 0; i < 10; i++) before.alloc()
    const persisted = ALLOC_STEP // what the log recorded
    const after = new IdAllocator(persisted, log)
    assert.strictEqual(after.alloc(), ALLOC_STEP + 1)
  })
})

describe("stores", () => {
  it("put store: insert, update address; duplicates of a live address are rejected", () => {
    const core = bootstrappedCore(2)
    assert.match(err(core.putStore({ ...store(3), address: store(2).address })).message, /duplicated store address/)
    get(core.putStore({ ...store(2), address: "127.0.0.1:9999" }))
    assert.strictEqual(get(core.getStore(sid(2))).store.address, "127.0.0.1:9999")
    get(core.putStore({ ...store(3), address: store(2).address }))
    assert.strictEqual(err(core.putStore(store(0))).type, "UNKNOWN")
  })

  it("a tombstone store: put is STORE_TOMBSTONE, heartbeats too, its address is free again", () => {
    const core = bootstrappedCore(3)
    get(core.setStoreState(sid(3), "Tombstone"))
    assert.strictEqual(err(core.putStore(store(3))).type, "STORE_TOMBSTONE")
    assert.strictEqual(err(core.storeHeartbeat(stats(3), 1)).type, "STORE_TOMBSTONE")
    assert.strictEqual(err(core.setStoreState(sid(3), "Up")).type, "STORE_TOMBSTONE")
    get(core.putStore({ ...store(4), address: store(3).address }))
    assert.deepStrictEqual(
      get(core.getAllStores(true)).map((s) => s.store.id as number),
      [1, 2, 4]
    )
    assert.strictEqual(get(core.getAllStores(false)).length, 4)
  })

  it("get store of an unknown id is STORE_NOT_FOUND; a heartbeat needs a known store and records stats", () => {
    const core = bootstrappedCore(2)
    assert.strictEqual(err(core.getStore(sid(9))).type, "STORE_NOT_FOUND")
    assert.strictEqual(err(core.storeHeartbeat(stats(9), 1)).type, "STORE_NOT_FOUND")
    get(core.storeHeartbeat(stats(2, { available: 7 }), 1234))
    const s = get(core.getStore(sid(2)))
    assert.strictEqual(s.stats?.available, 7)
    assert.strictEqual(s.lastHeartbeatMs, 1234)
  })

  it("a region heartbeat needs its leader's store to be known", () => {
    const core = bootstrappedCore(1)
    const r = region(1, "", "", { peers: [peer(1, 5)], version: 2 })
    assert.strictEqual(err(core.regionHeartbeat(heartbeat(r), 0)).type, "STORE_NOT_FOUND")
  })
})

describe("splits", () => {
  const threePeers = region(1, "", "", { peers: [peer(1, 1), peer(2, 2), peer(3, 3)] })

  it("ask split: a new region id and one new peer id per peer, all unique", () => {
    const core = bootstrappedCore(3, threePeers)
    const a = get(core.askSplit(threePeers))
    const b = get(core.askSplit(threePeers))
    assert.strictEqual(a.newPeerIds.length, 3)
    const all = [a.newRegionId, ...a.newPeerIds, b.newRegionId, ...b.newPeerIds] as Array<number>
    assert.strictEqual(new Set(all).size, all.length)
    assert.isTrue(
      all.every((id) => id > 3),
      "above the bootstrap ids"
    )
  })

  it("ask split is validated against the stored region: unknown range, stale epoch", () => {
    const core = bootstrappedCore(3, region(1, "", "m", { peers: [peer(1, 1)], confVer: 2, version: 2 }))
    assert.strictEqual(err(core.askSplit(region(5, "x", "", { peers: [peer(1, 1)] }))).type, "REGION_NOT_FOUND")
    const stale = region(1, "", "m", { peers: [peer(1, 1)], confVer: 2, version: 1 })
    assert.strictEqual(err(core.askSplit(stale)).type, "STALE_REGION")
    assert.strictEqual(err(core.askSplit(withEpoch(stale, 1, 2))).type, "STALE_REGION")
    get(core.askSplit(withEpoch(stale, 2, 2)))
  })

  it("report split checks that the halves meet", () => {
    const core = bootstrappedCore(1)
    get(core.reportSplit(region(1, "", "m"), region(2, "m", "")))
    get(core.reportSplit(region(1, "a", "m"), region(2, "m", "z")))
    assert.strictEqual(err(core.reportSplit(region(1, "", "m"), region(2, "n", ""))).type, "UNKNOWN")
  })

  it("scan and prev region through the core", () => {
    const core = bootstrappedCore(1, region(1, "", "m", { peers: [peer(1, 1)] }))
    get(core.regionHeartbeat(heartbeat(region(2, "m", "", { peers: [peer(2, 1)] })), 0))
    assert.deepStrictEqual(
      get(core.scanRegions(key(""), key(""), 0)).map((r) => [
        r.region.id as number,
        r.leader?.id as number | undefined
      ]),
      [
        [1, undefined],
        [2, 2]
      ]
    )
    assert.strictEqual(get(core.getPrevRegion(key("q")))?.region.id, 1)
    assert.strictEqual(get(core.getRegionById(rid(2)))?.leader?.id, 2)
  })
})

describe("operators", () => {
  it("steps go out with heartbeats until the report shows them done", () => {
    const r1 = region(1, "", "", { peers: [peer(1, 1)] })
    const core = bootstrappedCore(3, r1)
    get(core.regionHeartbeat(heartbeat(r1), 0))
    get(
      core.addOperator(
        rid(1),
        "move 1 → 2",
        [
          { _tag: "AddPeer", toStore: sid(2), peerId: pid(20) },
          { _tag: "TransferLeader", fromStore: sid(1), toStore: sid(2) },
          { _tag: "RemovePeer", fromStore: sid(1) }
        ],
        0
      )
    )
    const step = (r: typeof r1, leaderStore: number, pending: ReadonlyArray<ReturnType<typeof peer>> = []) =>
      get(core.regionHeartbeat(heartbeat(r, r.peers.find((p) => p.storeId === leaderStore)!, pending), 10)).response
    const add = step(r1, 1)
    assert.deepStrictEqual(add?.changePeer, { peer: peer(20, 2), changeType: "AddNode" })
    assert.deepStrictEqual(add?.targetPeer, peer(1, 1))
    assert.strictEqual(add?.regionId, 1)
    // re-sent until done
    assert.deepStrictEqual(step(r1, 1)?.changePeer?.changeType, "AddNode")
    const r2 = region(1, "", "", { peers: [peer(1, 1), peer(20, 2)], confVer: 2 })
    assert.deepStrictEqual(step(r2, 1, [peer(20, 2)])?.changePeer?.changeType, "AddNode", "a pending peer is not done")
    const transfer = step(r2, 1)
    assert.deepStrictEqual(transfer?.transferLeader, { peer: peer(20, 2) })
    const remove = step(r2, 2)
    assert.deepStrictEqual(remove?.changePeer, { peer: peer(1, 1), changeType: "RemoveNode" })
    assert.deepStrictEqual(remove?.targetPeer, peer(20, 2))
    assert.strictEqual(get(core.getOperator(rid(1))).status, "RUNNING")
    const r3 = region(1, "", "", { peers: [peer(20, 2)], confVer: 3 })
    assert.isUndefined(step(r3, 2))
    assert.strictEqual(get(core.getOperator(rid(1))).status, "SUCCESS")
    assert.isUndefined(step(r3, 2), "nothing more to do")
  })

  it("a store heartbeat's answer names the regions led from that store that have an operator waiting", () => {
    const r1 = region(1, "", "m", { peers: [peer(1, 1), peer(2, 2)] })
    const r2 = region(2, "m", "", { peers: [peer(3, 1), peer(4, 2)] })
    const core = bootstrappedCore(3, r1)
    get(core.regionHeartbeat(heartbeat(r1, peer(1, 1)), 0))
    get(core.regionHeartbeat(heartbeat(r2, peer(4, 2)), 0))
    assert.deepStrictEqual(get(core.storeHeartbeat(stats(1), 1)).regionsToReport, [], "no operator yet")
    get(core.addOperator(rid(1), "add", [{ _tag: "AddPeer", toStore: sid(3), peerId: pid(5) }], 1))
    get(core.addOperator(rid(2), "add", [{ _tag: "AddPeer", toStore: sid(3), peerId: pid(6) }], 1))
    assert.deepStrictEqual(get(core.storeHeartbeat(stats(1), 2)).regionsToReport, [rid(1)])
    assert.deepStrictEqual(get(core.storeHeartbeat(stats(2), 2)).regionsToReport, [rid(2)])
    assert.deepStrictEqual(get(core.storeHeartbeat(stats(3), 2)).regionsToReport, [], "store 3 leads nothing")
  })

  it("an operator that does not finish in time is dropped", () => {
    const r1 = region(1, "", "", { peers: [peer(1, 1)] })
    const core = bootstrappedCore(2, r1)
    get(core.addOperator(rid(1), "add", [{ _tag: "AddPeer", toStore: sid(2), peerId: pid(5) }], 0))
    assert.isDefined(get(core.regionHeartbeat(heartbeat(r1), 1000)).response)
    assert.isUndefined(get(core.regionHeartbeat(heartbeat(r1), 11 * 60 * 1000)).response)
    assert.strictEqual(get(core.getOperator(rid(1))).status, "TIMEOUT")
    assert.strictEqual(
      err(core.addOperator(rid(9), "x", [{ _tag: "RemovePeer", fromStore: sid(1) }], 0)).type,
      "REGION_NOT_FOUND"
    )
  })
})

describe("conf change anomalies", () => {
  const base = region(1, "", "", { peers: [peer(1, 1), peer(2, 2)], confVer: 2 })
  it("one peer per ConfVer step, and no peer change without one", () => {
    assert.isUndefined(
      confChangeAnomaly(base, { ...base, peers: [...base.peers, peer(3, 3)], regionEpoch: { confVer: 3, version: 1 } })
    )
    assert.isUndefined(
      confChangeAnomaly(base, { ...base, peers: [peer(1, 1)], regionEpoch: { confVer: 3, version: 1 } })
    )
    assert.match(
      confChangeAnomaly(base, {
        ...base,
        peers: [peer(1, 1), peer(2, 2), peer(3, 3), peer(4, 4)],
        regionEpoch: { confVer: 3, version: 1 }
      })!,
      /expected exactly one/
    )
    assert.match(confChangeAnomaly(base, { ...base, peers: [peer(1, 1)] })!, /without a ConfVer bump/)
    assert.isUndefined(confChangeAnomaly(base, withEpoch(base, 2, 5)), "a split keeps the peers")
  })
})
