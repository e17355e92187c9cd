/**
 * The replica checker (PD `ReplicaChecker`, TinyKV 3C's "replica count"): a region with fewer live
 * replicas than `maxReplicas` — a replica on a Down or Tombstone store does not count — gets one
 * more on the best store; a region with more replicas than `maxReplicas` loses one, a dead one
 * first. One step per operator: adding first (a region short of replicas is at risk), and the
 * extra replica goes on the next pass, once the new one is reported.
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

export const checkReplicas = (view: ClusterView, info: RegionInfo, newPeerId: NewPeerId): Proposal | undefined => {
  const { region } = info
  if (!storesKnown(view, info)) return undefined
  const max = view.config.maxReplicas
  const live = region.peers.filter((p) => holdsLiveReplica(view.stores.get(p.storeId)?.status))
  if (live.length < max) {
    const target = bestTarget(placementCandidates(view, info))
    if (target === undefined) return undefined
    return {
      regionId: region.id,
      kind: "replica",
      desc: `add replica on store ${target.id} (${live.length}/${max} live)`,
      steps: [{ _tag: "AddPeer", toStore: target.id, peerId: newPeerId() }]
    }
  }
  if (region.peers.length > max) {
    const victims = region.peers
      // never the leader: it would have to hand off first; a later pass removes it after balance moves it
      .filter((p) => p.id !== info.leader?.id)
      .sort(
        (a, b) =>
          removalRank[statusOf(view, a.storeId)] - removalRank[statusOf(view, b.storeId)] ||
          (view.stores.get(b.storeId)?.regionCount ?? 0) - (view.stores.get(a.storeId)?.regionCount ?? 0) ||
          b.storeId - a.storeId
      )
    const victim = victims[0]
    if (victim === undefined) return undefined
    return {
      regionId: region.id,
      kind: "replica",
      desc: `remove extra replica on ${statusOf(view, victim.storeId)} store ${victim.storeId} (${region.peers.length}/${max})`,
      steps: [{ _tag: "RemovePeer", fromStore: victim.storeId }]
    }
  }
  return undefined
}
