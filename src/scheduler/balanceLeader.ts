/**
 * balance-leader (PD `balance_leader.go`): hand one region's leadership from the store leading the
 * most regions to the follower store, among that region's replicas, leading the fewest. Leaders
 * serve every read and write of their region, so this spreads the request load; it moves no data.
 *
 * Only Up stores take part, a pending follower (behind on the log) is never the target, and the
 * move must leave the pair no more unbalanced the other way: source leaders − target leaders ≥ 2.
 */
import type { ClusterView, Proposal, StoreView } from "./view.js"

/** Leader-count difference below which moving a leader just swaps the imbalance. */
export const LEADER_TOLERANCE = 2

export const balanceLeader = (view: ClusterView): Proposal | undefined => {
  // no store limit: that is for replica moves, and a leader transfer moves no data (the kind's own limit applies)
  const up = (s: StoreView | undefined): s is StoreView => s !== undefined && s.status === "Up"
  const sources = [...view.stores.values()].filter(up).sort((a, b) => b.leaderCount - a.leaderCount || a.id - b.id)
  for (const source of sources) {
    let best: { regionId: number; target: StoreView } | undefined
    for (const info of view.regions) {
      if (info.leader?.storeId !== source.id || view.busyRegions.has(info.region.id)) continue
      for (const p of info.region.peers) {
        if (p.storeId === source.id || info.pendingPeers.some((q) => q.id === p.id)) continue
        const target = view.stores.get(p.storeId)
        if (!up(target) || source.leaderCount - target.leaderCount < LEADER_TOLERANCE) continue
        if (best === undefined || target.leaderCount < best.target.leaderCount) {
          best = { regionId: info.region.id, target }
        }
      }
    }
    if (best !== undefined) {
      return {
        regionId: best.regionId,
        kind: "balance-leader",
        desc: `transfer leader from store ${source.id} (${source.leaderCount} leaders) to store ${best.target.id} (${best.target.leaderCount})`,
        steps: [{ _tag: "TransferLeader", fromStore: source.id, toStore: best.target.id }]
      }
    }
  }
  return undefined
}
