/**
 * Region heartbeats (TinyKV 3C `cluster_test.go`): TinyKV's staleness rules, the region tree after
 * out-of-order split/merge reports, and per-store statistics kept in step with the tree.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { bytesEqual } from "../../src/protocol/bytes.js"
import type { Peer, Region } from "../../src/protocol/metapb.js"
import { RaftCluster } from "../../src/scheduler/cluster.js"
import { WriteLog } from "../../src/scheduler/persist.js"
import { type RegionInfo, regionInfo } from "../../src/scheduler/regionInfo.js"
import { err, get, key, peer, region, rid, sid, store, withEpoch } from "./fixtures.js"

const newCluster = (stores = 3) => {
  const c = new RaftCluster({ id: 1, maxPeerCount: 3 }, new WriteLog())
  for (let i = 1; i <= stores; i++) get(c.putStore(store(i)))
  return c
}

/** Per-store statistics recomputed from the tree, independently of the cluster's counters. */
const checkStores = (c: RaftCluster, storeIds: ReadonlyArray<number> = [1, 2, 3]) => {
  for (const id of storeIds) {
    let regionCount = 0
    let leaderCount = 0
    let pendingPeerCount = 0
    let regionSize = 0
    let leaderSize = 0
    for (const r of c.regions.all()) {
      if (r.region.peers.some((p) => p.storeId === id)) {
        regionCount++
        regionSize += r.approximateSize
      }
      if (r.leader?.storeId === id) {
        leaderCount++
        leaderSize += r.approximateSize
      }
      pendingPeerCount += r.pendingPeers.filter((p) => p.storeId === id).length
    }
    const s = c.store(sid(id))
    assert.isDefined(s)
    assert.deepStrictEqual(
      { regionCount, leaderCount, pendingPeerCount, regionSize, leaderSize },
      {
        regionCount: s!.regionCount,
        leaderCount: s!.leaderCount,
        pendingPeerCount: s!.pendingPeerCount,
        regionSize: s!.regionSize,
        leaderSize: s!.leaderSize
      },
      `store ${id}`
    )
  }
}

const sameRegion = (a: RegionInfo | undefined, b: RegionInfo) => {
  assert.isDefined(a)
  assert.strictEqual(a!.region.id, b.region.id)
  assert.isTrue(bytesEqual(a!.region.startKey, b.region.startKey), "start key")
  assert.isTrue(bytesEqual(a!.region.endKey, b.region.endKey), "end key")
  assert.deepStrictEqual(a!.region.regionEpoch, b.region.regionEpoch)
  assert.deepStrictEqual(a!.region.peers, b.region.peers)
  assert.deepStrictEqual(a!.leader, b.leader)
}

/** TinyKV `setUpTestCluster`: regions [i, i+1) with peers {3i+j on store (i+j)%3}, epoch {2, 2}. */
const threeRegions = (): ReadonlyArray<RegionInfo> =>
  [0, 1, 2].map((i) => {
    const peers = [0, 1, 2].map((j) => peer(3 * i + j + 1, ((i + j) % 3) + 1))
    const r = region(i + 1, new Uint8Array([i]), new Uint8Array([i + 1]), { peers, confVer: 2, version: 2 })
    return regionInfo(r, peers[0])
  })

const setUp = () => {
  const c = newCluster()
  const regions = threeRegions()
  for (const r of regions) get(c.processRegionHeartbeat(r))
  checkStores(c)
  return { c, regions }
}

const bump = (info: RegionInfo, confVer: number, version: number, change: Partial<RegionInfo> = {}): RegionInfo => ({
  ...info,
  ...change,
  region: withEpoch(change.region ?? info.region, confVer, version)
})

describe("region heartbeat staleness", () => {
  it("re-sending the same heartbeat changes nothing", () => {
    const { c, regions } = setUp()
    for (const r of regions) assert.isFalse(get(c.processRegionHeartbeat(r)).changed)
    for (const r of regions) sameRegion(c.regions.get(r.region.id), r)
    checkStores(c)
  })

  it("a newer Version is accepted; then the old Version is rejected even with a newer ConfVer", () => {
    const { c, regions } = setUp()
    const r = regions[0]!
    const v3 = bump(r, 2, 3)
    assert.isTrue(get(c.processRegionHeartbeat(v3)).changed)
    sameRegion(c.regions.get(r.region.id), v3)
    const staleVersion = bump(r, 3, 2)
    const e = err(c.processRegionHeartbeat(staleVersion))
    assert.strictEqual(e.type, "STALE_REGION")
    sameRegion(c.regions.get(r.region.id), v3)
    checkStores(c)
  })

  it("a newer Version and ConfVer together are accepted", () => {
    const { c, regions } = setUp()
    const next = bump(regions[1]!, 3, 3)
    get(c.processRegionHeartbeat(next))
    sameRegion(c.regions.get(next.region.id), next)
  })

  it("after a newer ConfVer, the older ConfVer is rejected (even with a newer Version)", () => {
    const { c, regions } = setUp()
    const r = regions[2]!
    get(c.processRegionHeartbeat(bump(r, 3, 2)))
    assert.strictEqual(err(c.processRegionHeartbeat(r)).type, "STALE_REGION")
    assert.strictEqual(err(c.processRegionHeartbeat(bump(r, 2, 9))).type, "STALE_REGION")
    assert.strictEqual(c.regions.get(r.region.id)!.region.regionEpoch.confVer, 3)
  })

  it("a region is rejected when it is older than any region its range overlaps", () => {
    const { c, regions } = setUp()
    // region 9 covers [0, 3) — all three regions (epoch {2, 2})
    const wide = (confVer: number, version: number) =>
      regionInfo(
        region(9, new Uint8Array([0]), new Uint8Array([3]), { peers: [peer(90, 1)], confVer, version }),
        peer(90, 1)
      )
    assert.strictEqual(err(c.processRegionHeartbeat(wide(2, 1))).type, "STALE_REGION", "older Version")
    assert.strictEqual(err(c.processRegionHeartbeat(wide(1, 5))).type, "STALE_REGION", "older ConfVer")
    for (const r of regions) sameRegion(c.regions.get(r.region.id), r)
    checkStores(c)
    // not older in either dimension: it replaces all three, and every affected store's counts follow
    get(c.processRegionHeartbeat(wide(2, 3)))
    assert.deepStrictEqual(
      c.regions.all().map((r) => r.region.id as number),
      [9]
    )
    checkStores(c)
    assert.strictEqual(c.store(sid(2))!.regionCount, 0)
    assert.strictEqual(c.store(sid(1))!.leaderCount, 1)
  })

  it("a heartbeat without an epoch, peers or a valid range is an error, not a change", () => {
    const { c, regions } = setUp()
    const r = regions[0]!
    const noEpoch = { ...r, region: { ...r.region, regionEpoch: undefined as never } }
    assert.strictEqual(err(c.processRegionHeartbeat(noEpoch)).type, "UNKNOWN")
    assert.strictEqual(err(c.processRegionHeartbeat({ ...r, region: { ...r.region, peers: [] } })).type, "UNKNOWN")
    const inverted = region(7, "b", "a")
    assert.strictEqual(err(c.processRegionHeartbeat(regionInfo(inverted))).type, "UNKNOWN")
    sameRegion(c.regions.get(r.region.id), r)
    checkStores(c)
  })
})

describe("region heartbeat updates (3C)", () => {
  it("pending peers are counted per store, and cleared", () => {
    const { c, regions } = setUp()
    const r = regions[0]!
    get(c.processRegionHeartbeat({ ...r, pendingPeers: [r.region.peers[1]!] }))
    assert.strictEqual(c.store(r.region.peers[1]!.storeId)!.pendingPeerCount, 1)
    checkStores(c)
    get(c.processRegionHeartbeat(r))
    for (const s of [1, 2, 3]) assert.strictEqual(c.store(sid(s))!.pendingPeerCount, 0)
    checkStores(c)
  })

  it("peers removed and added back, a leader change and a size change are applied", () => {
    const { c, regions } = setUp()
    const r = regions[1]!
    const shrunk = { ...r, region: { ...r.region, peers: r.region.peers.slice(0, 2) } }
    get(c.processRegionHeartbeat(shrunk))
    sameRegion(c.regions.get(r.region.id), shrunk)
    checkStores(c)
    get(c.processRegionHeartbeat(r))
    sameRegion(c.regions.get(r.region.id), r)
    checkStores(c)
    const newLeader = { ...r, leader: r.region.peers[2]! }
    get(c.processRegionHeartbeat(newLeader))
    assert.deepStrictEqual(c.regions.get(r.region.id)!.leader, r.region.peers[2])
    checkStores(c)
    const bigger = regionInfo(r.region, r.region.peers[2], [], 300 * 1024 * 1024)
    get(c.processRegionHeartbeat(bigger))
    assert.strictEqual(c.regions.get(r.region.id)!.approximateSize, 300)
    assert.strictEqual(c.store(r.region.peers[2]!.storeId)!.leaderSize, 300 + 1)
    checkStores(c)
  })

  it("region and leader counts per store", () => {
    const { c } = setUp()
    for (const s of [1, 2, 3]) {
      assert.strictEqual(c.store(sid(s))!.regionCount, 3)
      assert.strictEqual(c.store(sid(s))!.leaderCount, 1)
    }
  })

  it("split reported out of order: the gap stays unknown until its region reports (TestHeartbeatSplit3C)", () => {
    const c = newCluster(1)
    const p = peer(1, 1)
    const hb = (r: Region) => get(c.processRegionHeartbeat(regionInfo(r, r.peers[0])))
    const find = (k: string) => c.regions.search(key(k))?.region.id
    let r1 = region(1, "", "", { peers: [p] })
    hb(r1)
    assert.strictEqual(find("foo"), 1)
    // split 1 → 2 [, m) + 1 [m, ); region 2 reports first
    r1 = withEpoch({ ...r1, startKey: key("m") }, 1, 2)
    const r2 = region(2, "", "m", { peers: [peer(2, 1)] })
    hb(r2)
    assert.strictEqual(find("a"), 2)
    assert.isUndefined(find("z"), "[m, ) is unknown before region 1's heartbeat")
    hb(r1)
    assert.strictEqual(find("z"), 1)
    // split 1 → 3 [m, q) + 1 [q, ); region 1 reports first
    r1 = withEpoch({ ...r1, startKey: key("q") }, 1, 3)
    const r3 = region(3, "m", "q", { peers: [peer(3, 1)] })
    hb(r1)
    assert.strictEqual(find("z"), 1)
    assert.strictEqual(find("a"), 2)
    assert.isUndefined(find("n"), "[m, q) is unknown before region 3's heartbeat")
    hb(r3)
    assert.strictEqual(find("n"), 3)
    checkStores(c, [1])
    assert.strictEqual(c.store(sid(1))!.regionCount, 3)
  })

  it("7 rounds of splits, 7 of merges, then mixed: lookups by id and key stay right (TestRegionSplitAndMerge3C)", () => {
    const c = newCluster(1)
    const bound = (r: Region, which: "start" | "end") => {
      const k = which === "start" ? r.startKey : r.endKey
      return k.length > 0 ? k[0]! : which === "start" ? 0 : 255
    }
    const mk = (id: number, start: Uint8Array, end: Uint8Array, confVer: number, version: number) =>
      regionInfo(region(id, start, end, { peers: [peer(1000 + id, 1)], confVer, version }), peer(1000 + id, 1))
    const split = (rs: ReadonlyArray<RegionInfo>) =>
      rs.flatMap(({ region: r }) => {
        const middle = new Uint8Array([Math.floor(bound(r, "start") / 2) + Math.floor(bound(r, "end") / 2)])
        const { confVer, version } = r.regionEpoch
        return [
          mk(r.id + rs.length, r.startKey, middle, confVer, version + 1),
          mk(r.id + rs.length * 2, middle, r.endKey, confVer, version + 1)
        ]
      })
    const merge = (rs: ReadonlyArray<RegionInfo>) => {
      const out: Array<RegionInfo> = []
      for (let i = 0; i < rs.length; i += 2) {
        const left = rs[i]!.region
        const right = (rs[i + 1] ?? rs[i]!).region
        const epoch = left.regionEpoch.version > right.regionEpoch.version ? left.regionEpoch : right.regionEpoch
        out.push(mk(left.id + rs.length, left.startKey, right.endKey, epoch.confVer, epoch.version + 1))
      }
      return out
    }
    const check = (r: RegionInfo) => {
      sameRegion(c.regions.get(r.region.id), r)
      sameRegion(c.regions.search(r.region.startKey), r)
      if (r.region.endKey.length > 0) sameRegion(c.regions.search(new Uint8Array([r.region.endKey[0]! - 1])), r)
    }
    const heartbeatAll = (rs: ReadonlyArray<RegionInfo>) => {
      for (const r of rs) {
        get(c.processRegionHeartbeat(r))
        check(r)
      }
      for (const r of rs) {
        check(r)
        if (r.region.endKey.length > 0) {
          assert.notStrictEqual(c.regions.search(new Uint8Array([r.region.endKey[0]! + 1]))?.region.id, r.region.id)
        }
      }
      assert.strictEqual(c.regions.size, rs.length)
      checkStores(c, [1])
    }
    let regions: ReadonlyArray<RegionInfo> = [mk(1, new Uint8Array(), new Uint8Array(), 1, 1)]
    heartbeatAll(regions)
    const n = 7
    for (let i = 0; i < n; i++) heartbeatAll((regions = split(regions)))
    assert.strictEqual(regions.length, 128)
    for (let i = 0; i < n; i++) heartbeatAll((regions = merge(regions)))
    assert.strictEqual(regions.length, 1)
    for (let i = 0; i < n * 2; i++) heartbeatAll((regions = (i + 1) % 3 === 0 ? merge(regions) : split(regions)))
  })

  it("per-store statistics match the tree after a long random sequence of reports", () => {
    const c = newCluster(5)
    let seed = 11
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const epochs = new Map<number, { confVer: number; version: number }>()
    let accepted = 0
    for (let i = 0; i < 2000; i++) {
      const id = 1 + rand(12)
      const a = rand(20)
      const b = a + 1 + rand(4)
      const e = epochs.get(id) ?? { confVer: 1, version: 1 }
      const epoch = { confVer: e.confVer + rand(2), version: e.version + rand(3) - (rand(8) === 0 ? 1 : 0) }
      const peers: Array<Peer> = []
      for (let s = 1; s <= 5; s++) if (rand(2) === 0 || peers.length === 0) peers.push(peer(id * 10 + s, s))
      const leader = peers[rand(peers.length)]!
      const pending = peers.filter(() => rand(4) === 0)
      const info = regionInfo(
        region(id, new Uint8Array([a]), new Uint8Array([b]), { peers, ...epoch }),
        leader,
        pending,
        rand(5) * 1024 * 1024
      )
      const r = c.processRegionHeartbeat(info)
      if (Either.isRight(r)) {
        accepted++
        epochs.set(id, epoch)
      }
    }
    assert.isAbove(accepted, 100)
    checkStores(c, [1, 2, 3, 4, 5])
    assert.isTrue(c.regions.all().every((r) => c.regions.get(rid(r.region.id)) === r))
  })
})
