/**
 * The replica checker (TinyKV's `ReplicaChecker`), one step per operator, in this order:
 * 1. a replica on a Down or Tombstone store is removed (TinyKV `checkDownPeer`). First, because
 *    without learners a new replica is a voter at once: adding before removing would need 3 of 4
 *    voters with one dead — the lagging newcomer included — and stall writes until its snapshot
 *    lands; removing a dead voter never lowers the number of live ones. Only while the live
 *    replicas remain a majority of the rest: a region that lost its quorum is left alone;
 * 2. a region with fewer healthy replicas than `maxReplicas` gets one more, on the Up store not
 *    holding it with the fewest regions. A replica on an Offline store (being drained) is not
 *    healthy: it is replaced like this while it still serves, then step 3 removes it;
 * 3. a region with more replicas than `maxReplicas` loses one (never the leader's): Offline,
 *    then Disconnected stores' first, then the busiest store's.
 */
import type { StoreId } from "../protocol/ids.js"
import type { StoreStatus } from "../protocol/scheduler.js"
import type { RegionInfo } from "./regionInfo.js"
import { holdsLiveReplica } from "./storeState.js"
import { type ClusterView, type NewPeerId, type Proposal, type StoreView, storeHasRoom } from "./view.js"

/** Where a new replica may go: an Up store with room that does not hold the region yet. */
export const placementCandidates = (view: ClusterView, info: RegionInfo): ReadonlyArray<StoreView> =>
  [...view.stores.values()].filter(
    (s) => s.status === "Up" && storeHasRoom(view, s) && !info.region.peers.some((p) => p.storeId === s.id)
  )

/** The store with the fewest regions (then the least data, then the lowest id), as TinyKV's `GetStore`-less placement. */
export const bestTarget = (candidates: ReadonlyArray<StoreView>): StoreView | undefined =>
  [...candidates].sort((a, b) => a.regionCount - b.regionCount || a.regionSize - b.regionSize || a.id - b.id)[0]

/** Which replica to drop first: dead stores, then draining, then silent ones, then the busiest store. */
const removalRank: Record<StoreStatus, number> = { Tombstone: 0, Down: 1, Offline: 2, Disconnected: 3, Up: 4 }

const statusOf = (view: ClusterView, id: StoreId): StoreStatus => view.stores.get(id)!.status

/**
 * Whether every replica's store is registered. At cluster start the first region names stores that
 * have not called PutStore yet; judging them dead would remove or replace healthy replicas.
 */
export const storesKnown = (view: ClusterView, info: RegionInfo): boolean =>
  info.region.peers.every((p) => view.stores.has(p.storeId))

/**
 * Whether the region's live replicas stay a majority of its peers without `victim`. If they would
 * not, the removal could not commit were the dead stores really dead — and if a store is only slow to
 * report (judged Down wrongly), removing its replica would leave the region without a quorum for good.
 */
const keepsQuorum = (view: ClusterView, info: RegionInfo, victim: { readonly id: number }): boolean => {
  const rest = info.region.peers.filter((p) => p.id !== victim.id)
  return rest.filter((p) => holdsLiveReplica(statusOf(view, p.storeId))).length * 2 > rest.length
}

export const checkReplicas = (view: ClusterView, info: RegionInfo, newPeerId: NewPeerId): Proposal | undefined => {
  const { region } = info
  if (!storesKnown(view, info)) return undefined
  const max = view.config.maxReplicas
  const dead = region.peers.find(
    (p) => !holdsLiveReplica(statusOf(view, p.storeId)) && p.id !== info.leader?.id && keepsQuorum(view, info, p)
  )
  if (dead !== undefined) {
    return {
      regionId: region.id,
      kind: "replica",
      desc: `remove replica on ${statusOf(view, dead.storeId)} store ${dead.storeId}`,
      steps: [{ _tag: "RemovePeer", fromStore: dead.storeId }]
    }
  }
  const live = region.peers.filter((p) => statusOf(view, p.storeId) !== "Offline")
  if (live.length < max) {
    const target = bestTarget(placementCandidates(view, info))
    // nowhere to put it: a surplus replica may still go below
    if (target !== undefined) {
      return {
        regionId: region.id,
        kind: "replica",
        desc: `add replica on store ${target.id} (${live.length}/${max} healthy)`,
        steps: [{ _tag: "AddPeer", toStore: target.id, peerId: newPeerId() }]
      }
    }
  }
  if (region.peers.length > max) return removeSurplus(view, info)
  return undefined
}

/**
 * The replica to drop from a region with too many: Offline, then Disconnected stores' first, then
 * the busiest store's. The leader cannot remove itself: when it is the one to go (it sits on an
 * Offline or Disconnected store) it first hands leadership to a healthy follower, and a later pass
 * removes it; an Up leader is simply skipped over.
 */
const removeSurplus = (view: ClusterView, info: RegionInfo): Proposal | undefined => {
  const { region } = info
  const ranked = [...region.peers].sort(
    (a, b) =>
      removalRank[statusOf(view, a.storeId)] - removalRank[statusOf(view, b.storeId)] ||
      (view.stores.get(b.storeId)?.regionCount ?? 0) - (view.stores.get(a.storeId)?.regionCount ?? 0) ||
      b.storeId - a.storeId
  )
  const first = ranked[0]
  if (first !== undefined && first.id === info.leader?.id && statusOf(view, first.storeId) !== "Up") {
    const heir = ranked
      .slice(1)
      .reverse()
      .find((p) => statusOf(view, p.storeId) === "Up" && !info.pendingPeers.some((q) => q.id === p.id))
    if (heir === undefined) return undefined
    return {
      regionId: region.id,
      kind: "replica",
      desc: `hand leadership off ${statusOf(view, first.storeId)} store ${first.storeId} before removing its replica`,
      steps: [{ _tag: "TransferLeader", fromStore: first.storeId, toStore: heir.storeId }]
    }
  }
  const victim = ranked.find((p) => p.id !== info.leader?.id && keepsQuorum(view, info, p))
  if (victim === undefined) return undefined
  return {
    regionId: region.id,
    kind: "replica",
    desc: `remove extra replica on ${statusOf(view, victim.storeId)} store ${victim.storeId} (${region.peers.length}/${view.config.maxReplicas})`,
    steps: [{ _tag: "RemovePeer", fromStore: victim.storeId }]
  }
}
