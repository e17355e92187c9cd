/**
 * Stores as the scheduler sees them: the registered meta, the last reported stats and heartbeat
 * time, and per-store region statistics derived from the region tree (TinyKV `core.StoreInfo` +
 * `updateStoreStatusLocked`).
 *
 * The statistics are kept incrementally: every region entering the tree adds its contribution and
 * every region leaving it subtracts its own, so after any heartbeat every affected store (of the new
 * region and of each region it replaced) is up to date without rescanning the tree.
 */
import type { StoreId } from "../protocol/ids.js"
import type { Store } from "../protocol/metapb.js"
import type { StoreStats } from "../protocol/scheduler.js"
import type { RegionInfo } from "./regionInfo.js"

export interface RegionStats {
  readonly leaderCount: number
  readonly regionCount: number
  readonly pendingPeerCount: number
  /** MiB, summed over the regions this store leads. */
  readonly leaderSize: number
  /** MiB, summed over the regions this store holds a peer of. */
  readonly regionSize: number
}

export const zeroStats: RegionStats = {
  leaderCount: 0,
  regionCount: 0,
  pendingPeerCount: 0,
  leaderSize: 0,
  regionSize: 0
}

export interface StoreInfo extends RegionStats {
  readonly store: Store
  readonly stats: StoreStats | undefined
  /** Clock ms of the last store heartbeat; 0 when none since the scheduler started. */
  readonly lastHeartbeatMs: number
}

interface MutableStats {
  leaderCount: number
  regionCount: number
  pendingPeerCount: number
  leaderSize: number
  regionSize: number
}

/** Per-store region statistics, keyed by store id whether or not the store is registered. */
export class StoreRegionStats {
  private readonly byStore = new Map<number, MutableStats>()

  get(storeId: StoreId): RegionStats {
    return this.byStore.get(storeId) ?? zeroStats
  }

  add(info: RegionInfo): void {
    this.apply(info, 1)
  }

  subtract(info: RegionInfo): void {
    this.apply(info, -1)
  }

  private apply(info: RegionInfo, sign: 1 | -1): void {
    const size = info.approximateSize * sign
    for (const peer of info.region.peers) {
      const s = this.entry(peer.storeId)
      s.regionCount += sign
      s.regionSize += size
    }
    if (info.leader !== undefined) {
      const s = this.entry(info.leader.storeId)
      s.leaderCount += sign
      s.leaderSize += size
    }
    for (const peer of info.pendingPeers) this.entry(peer.storeId).pendingPeerCount += sign
  }

  private entry(storeId: StoreId): MutableStats {
    let s = this.byStore.get(storeId)
    if (s === undefined) {
      s = { ...zeroStats }
      this.byStore.set(storeId, s)
    }
    return s
  }
}
