/**
 * RegionCache: the client's map of the key space, filled lazily from the scheduler and corrected by
 * what stores answer (TiKV client-go's region cache, simplified).
 *
 * Entries never overlap and are kept sorted by start key, so the region holding a key is found by
 * binary search; the scheduler is asked only on a miss. Each entry remembers the peer believed to
 * lead the region and the peers that failed since the entry was loaded: requests go to the leader
 * when it is known and has not failed, else to the next peer that has not failed (which answers
 * `NotLeader` with a hint, or serves). Once every peer failed, the entry is dropped and the next
 * lookup asks the scheduler again.
 *
 * Region info arrives from two sources that can lag each other (the scheduler hears about a split
 * only from the leader's next heartbeat), so older info never replaces newer: an incoming region is
 * ignored when it overlaps a cached one with a higher version, or is a cached region with an older
 * epoch.
 */
import { Data, Effect } from "effect"
import { compareBytes, inRange } from "../../protocol/bytes.js"
import type { PeerId, RegionId, StoreId } from "../../protocol/ids.js"
import type { Peer, Region, RegionEpoch } from "../../protocol/metapb.js"
import type { SchedulerClient, SchedulerClientError } from "../../services/SchedulerClient.js"

/** What the cache needs from the scheduler. */
export type RegionSource = Pick<SchedulerClient["Type"], "getRegion">

/** No region is known to hold `key` (the cluster is not bootstrapped, or the scheduler lags behind a split). */
export class NoRegion extends Data.TaggedError("NoRegion")<{ readonly key: Uint8Array }> {}

/** Where to send a request for a key: its region as cached, and the peer to ask. */
export interface Route {
  readonly region: Region
  readonly peer: Peer
}

interface Entry {
  readonly region: Region
  /** The peer believed to lead the region; `undefined` when unknown. */
  leader: Peer | undefined
  /** Peers that failed (unreachable) since the entry was loaded. */
  readonly failed: Set<PeerId>
  /** Live peers that said they do not lead and know no leader (an election is running), asked last. */
  readonly noLeader: Set<PeerId>
}

export interface RegionCache {
  /** The cached region holding `key`, or the scheduler's answer (then cached), with the peer to ask. */
  readonly locate: (key: Uint8Array) => Effect.Effect<Route, SchedulerClientError | NoRegion>
  /** The cached route for `key`, without asking the scheduler. */
  readonly lookup: (key: Uint8Array) => Route | undefined
  /** Caches `region` (and its leader, when known) unless what is cached is newer; true when cached. */
  readonly insert: (region: Region, leader?: Peer | undefined) => boolean
  /** Forgets a region: the next lookup of its keys asks the scheduler. */
  readonly invalidate: (regionId: RegionId) => void
  /** `NotLeader` with a hint: remember the new leader; true when the next request goes to it. */
  readonly onNotLeader: (regionId: RegionId, leader: Peer) => boolean
  /**
   * `EpochNotMatch` from `storeId`: cache the store's current regions in place of ours; true when the
   * cache changed. A store checks leadership before the epoch, so it leads the region we asked for;
   * the regions split off it most likely have their leaders on the same store too.
   */
  readonly onEpochNotMatch: (regionId: RegionId, currentRegions: ReadonlyArray<Region>, storeId: StoreId) => boolean
  /** `peer` could not serve (unreachable): ask another peer next time. */
  readonly onPeerFailed: (regionId: RegionId, peer: Peer) => void
  /**
   * `peer` is up but neither leads nor knows a leader (an election is running): ask another live peer
   * next time, and once every live peer has said so, start over with them. The region stays cached:
   * reloading it would ask the scheduler, which still names the leader that was lost.
   */
  readonly onNoLeader: (regionId: RegionId, peer: Peer) => void
  /** The cached regions in key order, with their believed leaders (diagnostics and tests). */
  readonly regions: () => ReadonlyArray<{ readonly region: Region; readonly leader: Peer | undefined }>
}

const overlaps = (a: Region, b: Region): boolean =>
  (a.endKey.length === 0 || compareBytes(b.startKey, a.endKey) < 0) &&
  (b.endKey.length === 0 || compareBytes(a.startKey, b.endKey) < 0)

const contains = (region: Region, key: Uint8Array): boolean => inRange(key, region.startKey, region.endKey)

const olderEpoch = (a: RegionEpoch, b: RegionEpoch): boolean => a.version < b.version || a.confVer < b.confVer

/** Whether `incoming` is older than the cached `existing` it would replace. */
const isStale = (incoming: Region, existing: Region): boolean =>
  incoming.id === existing.id
    ? olderEpoch(incoming.regionEpoch, existing.regionEpoch)
    : incoming.regionEpoch.version < existing.regionEpoch.version

const memberOf = (region: Region, peer: Peer | undefined): Peer | undefined =>
  peer === undefined ? undefined : region.peers.find((p) => p.id === peer.id && p.storeId === peer.storeId)

/**
 * The peer to ask: the leader unless it failed, else the first peer that has not failed and has not said
 * it knows no leader, else the first that has not failed.
 */
const target = (e: Entry): Peer | undefined =>
  e.leader !== undefined && !e.failed.has(e.leader.id)
    ? e.leader
    : (e.region.peers.find((p) => !e.failed.has(p.id) && !e.noLeader.has(p.id)) ??
      e.region.peers.find((p) => !e.failed.has(p.id)))

export const makeRegionCache = (source: RegionSource): RegionCache => {
  const sorted: Array<Entry> = []
  const byId = new Map<RegionId, Entry>()

  /** Index of the last entry starting at or before `key`; -1 when none. */
  const floorIndex = (key: Uint8Array): number => {
    let lo = 0
    let hi = sorted.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (compareBytes(sorted[mid]!.region.startKey, key) <= 0) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  const entryFor = (key: Uint8Array): Entry | undefined => {
    const e = sorted[floorIndex(key)]
    return e !== undefined && contains(e.region, key) ? e : undefined
  }

  const remove = (e: Entry) => {
    const i = sorted.indexOf(e)
    if (i >= 0) sorted.splice(i, 1)
    if (byId.get(e.region.id) === e) byId.delete(e.region.id)
  }

  const invalidate = (regionId: RegionId) => {
    const e = byId.get(regionId)
    if (e !== undefined) remove(e)
  }

  const insert = (region: Region, leader?: Peer | undefined): boolean => {
    const replaced = sorted.filter((e) => overlaps(e.region, region))
    const same = byId.get(region.id)
    if (same !== undefined && !replaced.includes(same)) replaced.push(same)
    if (replaced.some((e) => isStale(region, e.region))) return false
    for (const e of replaced) remove(e)
    // a region re-learnt without leader info (from EpochNotMatch) keeps the leader we knew, if still a member
    const entry: Entry = {
      region,
      leader: memberOf(region, leader) ?? memberOf(region, same?.leader),
      failed: new Set(),
      noLeader: new Set()
    }
    sorted.splice(floorIndex(region.startKey) + 1, 0, entry)
    byId.set(region.id, entry)
    return true
  }

  const routeOf = (e: Entry): Route | undefined => {
    const peer = target(e)
    return peer === undefined ? undefined : { region: e.region, peer }
  }

  const lookup = (key: Uint8Array): Route | undefined => {
    const e = entryFor(key)
    return e === undefined ? undefined : routeOf(e)
  }

  const locate = (key: Uint8Array): Effect.Effect<Route, SchedulerClientError | NoRegion> =>
    Effect.suspend(() => {
      const hit = lookup(key)
      if (hit !== undefined) return Effect.succeed(hit)
      return Effect.flatMap(source.getRegion(key), (found): Effect.Effect<Route, NoRegion> => {
        if (found === undefined || !contains(found.region, key)) return Effect.fail(new NoRegion({ key }))
        insert(found.region, found.leader)
        const cached = lookup(key)
        if (cached !== undefined) return Effect.succeed(cached)
        // The scheduler lags behind what a store told us (a split it has not heard of): use its
        // answer once, uncached; the store will answer EpochNotMatch with the regions it has now.
        const peer = memberOf(found.region, found.leader) ?? found.region.peers[0]
        return peer === undefined ? Effect.fail(new NoRegion({ key })) : Effect.succeed({ region: found.region, peer })
      })
    })

  const onPeerFailed = (regionId: RegionId, peer: Peer) => {
    const e = byId.get(regionId)
    if (e === undefined) return
    e.failed.add(peer.id)
    if (e.leader?.id === peer.id) e.leader = undefined
    if (target(e) === undefined) remove(e)
  }

  const onNoLeader = (regionId: RegionId, peer: Peer) => {
    const e = byId.get(regionId)
    if (e === undefined) return
    if (e.leader?.id === peer.id) e.leader = undefined
    e.noLeader.add(peer.id)
    // every live peer has said it: they are electing, so go round them again
    if (e.region.peers.every((p) => e.failed.has(p.id) || e.noLeader.has(p.id))) e.noLeader.clear()
  }

  const onNotLeader = (regionId: RegionId, leader: Peer): boolean => {
    const e = byId.get(regionId)
    if (e === undefined) return false
    const member = memberOf(e.region, leader)
    if (member === undefined) {
      // a leader we do not know as a member: our peer list is stale, reload the region
      remove(e)
      return false
    }
    const moved = e.leader?.id !== member.id || e.failed.has(member.id)
    e.leader = member
    // a live store vouches for this leader, so give it another chance even if it failed before
    e.failed.delete(member.id)
    e.noLeader.clear()
    return moved
  }

  const onEpochNotMatch = (regionId: RegionId, currentRegions: ReadonlyArray<Region>, storeId: StoreId): boolean => {
    let changed = false
    for (const r of currentRegions)
      changed =
        insert(
          r,
          r.peers.find((p) => p.storeId === storeId)
        ) || changed
    // nothing usable came back: drop ours and ask the scheduler
    if (!changed && currentRegions.length === 0) {
      changed = byId.has(regionId)
      invalidate(regionId)
    }
    return changed
  }

  return {
    locate,
    lookup,
    insert,
    invalidate,
    onNotLeader,
    onEpochNotMatch,
    onPeerFailed,
    onNoLeader,
    regions: () => sorted.map((e) => ({ region: e.region, leader: e.leader }))
  }
}
