/**
 * balance-region (TinyKV 3C `balance_region.go`): move one replica from the store holding the most
 * region data to the one holding the least, as AddPeer on the target then RemovePeer on the source
 * (with a leader hand-off between the two when the source leads the region).
 *
 * The rules, TinyKV's:
 * - only suitable stores take part: Up (heartbeat within the disconnect time) and with room;
 * - sources are tried fullest first (region size, MiB; every region counts at least 1 MiB, so with
 *   sizes unreported this is the region count);
 * - only regions with exactly `maxReplicas` replicas move (others are the replica checker's);
 * - from a source, a region whose replica there is pending is moved first (TinyKV's
 *   TestReplacePendingRegion: that store is behind on it, moving it helps both), then regions the
 *   source follows, then those it leads; a region with a pending replica elsewhere is skipped — it
 *   is already short of an up-to-date replica and a move would make it catch up two;
 * - the move must be worth it: source size − target size > 2 × the region's size, so that after the
 *   move the target is still no fuller than the source was (no ping-pong).
 */
import type { RegionInfo } from "./regionInfo.js"
import { bestTarget as fewestRegions, placementCandidates, storesKnown } from "./replicaChecker.js"
import { type ClusterView, type NewPeerId, type Proposal, type StoreView, storeHasRoom } from "./view.js"

const suitable = (view: ClusterView, s: StoreView): boolean => s.status === "Up" && storeHasRoom(view, s)

/** Regions with a replica on `source` worth moving, in the order TinyKV tries them. */
export const movableRegions = (view: ClusterView, source: StoreView): ReadonlyArray<RegionInfo> => {
  const rank = (r: RegionInfo): number => {
    const pendingHere = r.pendingPeers.some((p) => p.storeId === source.id)
    return pendingHere ? 0 : r.leader?.storeId === source.id ? 2 : 1
  }
  return view.regions
    .filter(
      (r) =>
        !view.busyRegions.has(r.region.id) &&
        storesKnown(view, r) &&
        r.region.peers.length === view.config.maxReplicas &&
        r.region.peers.some((p) => p.storeId === source.id) &&
        r.pendingPeers.every((p) => p.storeId === source.id)
    )
    .map((r) => ({ r, k: rank(r) }))
    .sort((a, b) => a.k - b.k || a.r.region.id - b.r.region.id)
    .map(({ r }) => r)
}

/** The smallest store (by region size) that may take a replica of `info`. */
const smallestTarget = (view: ClusterView, info: RegionInfo): StoreView | undefined => {
  const candidates = placementCandidates(view, info)
  const minSize = Math.min(...candidates.map((s) => s.regionSize))
  return fewestRegions(candidates.filter((s) => s.regionSize === minSize))
}

export const balanceRegion = (view: ClusterView, newPeerId: NewPeerId): Proposal | undefined => {
  const sources = [...view.stores.values()]
    .filter((s) => suitable(view, s))
    .sort((a, b) => b.regionSize - a.regionSize || a.id - b.id)
  if (sources.length < 2) return undefined
  for (const source of sources) {
    for (const info of movableRegions(view, source)) {
      const target = smallestTarget(view, info)
      if (target === undefined) continue
      // the target is the smallest store for this region: if it is not far enough below, no other is
      if (source.regionSize - target.regionSize <= 2 * info.approximateSize) continue
      const leads = info.leader?.storeId === source.id
      return {
        regionId: info.region.id,
        kind: "balance-region",
        desc: `move replica from store ${source.id} (${source.regionSize} MiB) to store ${target.id} (${target.regionSize} MiB)`,
        steps: [
          { _tag: "AddPeer", toStore: target.id, peerId: newPeerId() },
          ...(leads ? [{ _tag: "TransferLeader" as const, fromStore: source.id, toStore: target.id }] : []),
          { _tag: "RemovePeer", fromStore: source.id }
        ]
      }
    }
  }
  return undefined
}
