/**
 * The bootstrapped cluster (TinyKV `RaftCluster` + `core.BasicCluster`): cluster meta, stores and
 * the region tree, with the heartbeat rules that keep them consistent. Pure and synchronous; writes
 * go to the shared `WriteLog`.
 */
import { compareBytes } from "../protocol/bytes.js"
import type { StoreId } from "../protocol/ids.js"
import type { Cluster, Region, Store, StoreState } from "../protocol/metapb.js"
import type { StoreStats } from "../protocol/scheduler.js"
import { fail, ok, type Result } from "./errors.js"
import { regionCodec, regionKey, storeCodec, storeKey, type WriteLog } from "./persist.js"
import { confChangeAnomaly, isEpochStale, type RegionInfo, regionInfo, sameInfo, sameMeta } from "./regionInfo.js"
import { RegionTree } from "./regionTree.js"
import { type StoreInfo, StoreRegionStats } from "./stores.js"

interface StoreEntry {
  readonly store: Store
  readonly stats: StoreStats | undefined
  readonly lastHeartbeatMs: number
}

/** What a region heartbeat did: whether anything changed, and a conf-change anomaly worth reporting. */
export interface HeartbeatOutcome {
  readonly changed: boolean
  readonly anomaly: string | undefined
}

const describeEpoch = (r: Region): string => `{confVer ${r.regionEpoch.confVer}, version ${r.regionEpoch.version}}`

export class RaftCluster {
  private readonly storeEntries = new Map<number, StoreEntry>()
  private readonly regionStats = new StoreRegionStats()
  readonly regions = new RegionTree()

  constructor(
    public meta: Cluster,
    private readonly log: WriteLog
  ) {}

  /** Rebuilds a cluster from persisted meta; regions that a newer one overlaps are dropped (and deleted). */
  static restore(
    meta: Cluster,
    stores: ReadonlyArray<Store>,
    regions: ReadonlyArray<Region>,
    log: WriteLog
  ): RaftCluster {
    const c = new RaftCluster(meta, log)
    for (const store of stores) c.storeEntries.set(store.id, { store, stats: undefined, lastHeartbeatMs: 0 })
    // oldest first, so where persisted ranges disagree (a crash between writes) the newest report wins
    const byAge = [...regions].sort(
      (a, b) => a.regionEpoch.version - b.regionEpoch.version || a.regionEpoch.confVer - b.regionEpoch.confVer
    )
    for (const region of byAge) c.insert(regionInfo(region), false)
    return c
  }

  // --- stores ---

  store(id: StoreId): StoreInfo | undefined {
    const e = this.storeEntries.get(id)
    return e === undefined ? undefined : { ...e, ...this.regionStats.get(id) }
  }

  getStore(id: StoreId): Result<StoreInfo> {
    const s = this.store(id)
    return s === undefined ? fail("STORE_NOT_FOUND", `store ${id} not found`) : ok(s)
  }

  stores(): ReadonlyArray<StoreInfo> {
    return [...this.storeEntries.keys()].sort((a, b) => a - b).map((id) => this.store(id as StoreId)!)
  }

  /** Registers a store or updates its address (TinyKV `putStore`); the state of a known store is kept. */
  putStore(store: Store): Result<void> {
    if (store.id === 0) return fail("UNKNOWN", "store id 0 is invalid")
    const existing = this.storeEntries.get(store.id)
    if (existing?.store.state === "Tombstone") return fail("STORE_TOMBSTONE", `store ${store.id} is a tombstone`)
    if (store.address.length > 0) {
      for (const e of this.storeEntries.values()) {
        if (e.store.state !== "Tombstone" && e.store.id !== store.id && e.store.address === store.address) {
          return fail("UNKNOWN", `duplicated store address ${store.address}: already registered by store ${e.store.id}`)
        }
      }
    }
    // a re-registering store brings its current addresses; a status listener it no longer runs is forgotten
    const { statusAddress: _old, ...kept } = existing?.store ?? store
    const next: Store =
      existing === undefined
        ? store
        : {
            ...kept,
            address: store.address,
            ...(store.statusAddress === undefined ? {} : { statusAddress: store.statusAddress })
          }
    this.storeEntries.set(store.id, { stats: undefined, lastHeartbeatMs: 0, ...existing, store: next })
    this.log.put(storeKey(store.id), storeCodec.encode(next), true)
    return ok(undefined)
  }

  /** Moves a store to `Offline` or `Tombstone` (admin); a tombstone never comes back. */
  setStoreState(id: StoreId, state: StoreState): Result<void> {
    const e = this.storeEntries.get(id)
    if (e === undefined) return fail("STORE_NOT_FOUND", `store ${id} not found`)
    if (e.store.state === "Tombstone" && state !== "Tombstone") {
      return fail("STORE_TOMBSTONE", `store ${id} is a tombstone`)
    }
    const store: Store = { ...e.store, state }
    this.storeEntries.set(id, { ...e, store })
    this.log.put(storeKey(id), storeCodec.encode(store), true)
    return ok(undefined)
  }

  /** Records a store's stats and heartbeat time; the store must exist and not be a tombstone. */
  storeHeartbeat(stats: StoreStats, nowMs: number): Result<void> {
    const e = this.storeEntries.get(stats.storeId)
    if (e === undefined) return fail("STORE_NOT_FOUND", `store ${stats.storeId} not found`)
    if (e.store.state === "Tombstone") return fail("STORE_TOMBSTONE", `store ${stats.storeId} is a tombstone`)
    this.storeEntries.set(stats.storeId, { ...e, stats, lastHeartbeatMs: nowMs })
    return ok(undefined)
  }

  // --- regions ---

  /**
   * Applies a region heartbeat (TinyKV `processRegionHeartbeat`): rejected when the reported
   * epoch is older — Version OR ConfVer lower — than that of the stored region with the same id or of
   * any stored region its range overlaps; otherwise it replaces them all, and the statistics of every
   * store of the new and the replaced regions follow.
   */
  processRegionHeartbeat(info: RegionInfo): Result<HeartbeatOutcome> {
    const { region } = info
    if ((region.regionEpoch as Region["regionEpoch"] | undefined) === undefined) {
      return fail("UNKNOWN", `region ${region.id} has no epoch`)
    }
    if (region.id === 0) return fail("UNKNOWN", "region id 0 is invalid")
    if (region.peers.length === 0) return fail("UNKNOWN", `region ${region.id} has no peers`)
    if (region.endKey.length > 0 && compareBytes(region.startKey, region.endKey) >= 0) {
      return fail("UNKNOWN", `region ${region.id} has an empty key range`)
    }
    const origin = this.regions.get(region.id)
    if (origin !== undefined && isEpochStale(region.regionEpoch, origin.region.regionEpoch)) {
      return fail(
        "STALE_REGION",
        `region ${region.id} epoch ${describeEpoch(region)} is older than the stored ${describeEpoch(origin.region)}`
      )
    }
    for (const o of this.regions.overlaps(info)) {
      if (isEpochStale(region.regionEpoch, o.region.regionEpoch)) {
        return fail(
          "STALE_REGION",
          `region ${region.id} epoch ${describeEpoch(region)} is older than overlapping region ${o.region.id} ${describeEpoch(o.region)}`
        )
      }
    }
    if (origin !== undefined && sameInfo(origin, info)) return ok({ changed: false, anomaly: undefined })
    const anomaly = origin === undefined ? undefined : confChangeAnomaly(origin.region, region)
    this.insert(info, origin === undefined || !sameMeta(origin.region, region))
    return ok({ changed: true, anomaly })
  }

  /** Inserts without checks (the bootstrap region, restore); `persist` writes the region's meta. */
  insert(info: RegionInfo, persist: boolean): void {
    for (const r of this.regions.put(info)) {
      this.regionStats.subtract(r)
      if (r.region.id !== info.region.id) this.log.delete(regionKey(r.region.id))
    }
    this.regionStats.add(info)
    if (persist) this.log.put(regionKey(info.region.id), regionCodec.encode(info.region), false)
  }

  /**
   * TinyKV `validRequestRegion` for AskSplit: the region containing the request's start key must
   * exist and the request's epoch must not be older than it.
   */
  validateSplitRequest(region: Region): Result<RegionInfo> {
    const cur = this.regions.search(region.startKey)
    if (cur === undefined) return fail("REGION_NOT_FOUND", `no region contains the start key of region ${region.id}`)
    if (isEpochStale(region.regionEpoch, cur.region.regionEpoch)) {
      return fail(
        "STALE_REGION",
        `region ${region.id} epoch ${describeEpoch(region)} is older than the stored ${describeEpoch(cur.region)}`
      )
    }
    if (region.peers.length === 0) return fail("UNKNOWN", `region ${region.id} has no peers`)
    return ok(cur)
  }
}

/** TinyKV `checkSplitRegion`: `left` must end where `right` starts, and `right` must not be empty. */
export const checkReportSplit = (left: Region, right: Region): Result<void> =>
  compareBytes(left.endKey, right.startKey) === 0 &&
  (right.endKey.length === 0 || compareBytes(left.startKey, right.endKey) < 0)
    ? ok(undefined)
    : fail("UNKNOWN", `invalid split: region ${left.id} does not end where region ${right.id} starts`)
