/**
 * Membership and leadership helpers for a `TestCluster` (TinyKV `Cluster.MustAddPeer`, `MustRemovePeer`,
 * `MustTransferLeader`, `MustHavePeer`, `MustNonePeer`, `AllocPeer`, `GetRandomRegion`).
 *
 * Conf changes go the way a real cluster's do: an operator queued at the scheduler, whose step the region's
 * leader receives in the answer to its next heartbeat and proposes through the Raft log. Waiting is on the
 * scheduler's view of the region (what the leader reported after applying the change), as TinyKV's helpers
 * do; a leader transfer is an admin command sent straight to the current leader, repeated until the target
 * leads. Every wait has a deadline (`eventually`), on the live clock or, under the simulator, on virtual time.
 */
import { Deferred, Effect } from "effect"
import type { PeerId, RegionId, StoreId } from "../protocol/ids.js"
import type { Peer, Region } from "../protocol/metapb.js"
import type { RaftCmdResponse } from "../protocol/raftCmd.js"
import { eventually } from "./eventually.js"
import { REQUEST_TIMEOUT_MS, type TestCluster } from "./TestCluster.js"

/** How long a conf change may take by default: under heavy message loss a commit can take seconds. */
export const CONF_CHANGE_TIMEOUT_MS = REQUEST_TIMEOUT_MS

const header = (cluster: TestCluster) => ({ clusterId: cluster.scheduler.clusterId })

/**
 * The clock the waits run on: the live one, except under the simulator's virtual time, where a live
 * timer would fire at a virtual moment that depends on the machine's speed and the seed would not replay.
 */
const waitClock = (cluster: TestCluster) => (cluster.deterministic ? ("caller" as const) : ("live" as const))

/** The region as the scheduler last heard of it from its leader (`undefined` if unknown). */
export const schedulerRegion = (cluster: TestCluster, regionId: RegionId) =>
  cluster.scheduler.getRegionById({ header: header(cluster), regionId }).pipe(
    Effect.map((r) => r.region),
    Effect.orDie
  )

/** A new peer on `storeId` with an id from the scheduler's allocator (TinyKV `AllocPeer`). */
export const allocPeer = (cluster: TestCluster, storeId: StoreId): Effect.Effect<Peer> =>
  cluster.scheduler.allocId({ header: header(cluster) }).pipe(
    Effect.map((r) => ({ id: r.id as PeerId, storeId })),
    Effect.orDie
  )

/** Every region the scheduler knows, in key order, with its leader if reported. */
export const schedulerRegions = (cluster: TestCluster) =>
  cluster.scheduler
    .scanRegions({ header: header(cluster), startKey: new Uint8Array(), endKey: new Uint8Array(), limit: 0 })
    .pipe(
      Effect.map((r) => r.regions),
      Effect.orDie
    )

/** One of the regions the scheduler knows, chosen by `rand` (TinyKV `GetRandomRegion`). */
export const randomRegion = (cluster: TestCluster, rand: () => number): Effect.Effect<Region> =>
  Effect.flatMap(schedulerRegions(cluster), (regions) =>
    regions.length === 0
      ? Effect.dieMessage("the scheduler knows no region")
      : Effect.succeed(regions[Math.floor(rand() * regions.length)]!.region)
  )

const hasPeer = (region: Region | undefined, peer: Peer): boolean =>
  region?.peers.some((p) => p.storeId === peer.storeId && p.id === peer.id) ?? false

/** Waits until the scheduler's region has `peer` (TinyKV `MustHavePeer`). */
export const mustHavePeer = (
  cluster: TestCluster,
  regionId: RegionId,
  peer: Peer,
  timeoutMs = CONF_CHANGE_TIMEOUT_MS
) =>
  eventually(
    Effect.map(schedulerRegion(cluster, regionId), (r) => hasPeer(r, peer)),
    {
      what: `region ${regionId} to have peer ${peer.id} on store ${peer.storeId}`,
      timeout: timeoutMs,
      interval: "20 millis",
      clock: waitClock(cluster)
    }
  ).pipe(Effect.asVoid)

/** Waits until the scheduler's region no longer has `peer` (TinyKV `MustNonePeer`). */
export const mustNonePeer = (
  cluster: TestCluster,
  regionId: RegionId,
  peer: Peer,
  timeoutMs = CONF_CHANGE_TIMEOUT_MS
) =>
  eventually(
    Effect.map(schedulerRegion(cluster, regionId), (r) => r !== undefined && !hasPeer(r, peer)),
    {
      what: `region ${regionId} to lose peer ${peer.id} on store ${peer.storeId}`,
      timeout: timeoutMs,
      interval: "20 millis",
      clock: waitClock(cluster)
    }
  ).pipe(Effect.asVoid)

/** Adds `peer` to the region through a scheduler operator and waits until the leader reports it. */
export const mustAddPeer = (cluster: TestCluster, regionId: RegionId, peer: Peer, timeoutMs = CONF_CHANGE_TIMEOUT_MS) =>
  Effect.zipRight(
    Effect.orDie(
      cluster.scheduler.addOperator(regionId, `add peer ${peer.id}`, [
        { _tag: "AddPeer", toStore: peer.storeId, peerId: peer.id }
      ])
    ),
    mustHavePeer(cluster, regionId, peer, timeoutMs)
  )

/**
 * Removes `peer` from the region through a scheduler operator and waits until the leader reports it gone.
 * Removing the leader works too: it hands leadership over first, and the new leader removes it.
 */
export const mustRemovePeer = (
  cluster: TestCluster,
  regionId: RegionId,
  peer: Peer,
  timeoutMs = CONF_CHANGE_TIMEOUT_MS
) =>
  Effect.zipRight(
    Effect.orDie(
      cluster.scheduler.addOperator(regionId, `remove peer ${peer.id}`, [
        { _tag: "RemovePeer", fromStore: peer.storeId }
      ])
    ),
    mustNonePeer(cluster, regionId, peer, timeoutMs)
  )

/**
 * Makes `peer` the region's leader (TinyKV `MustTransferLeader`): asks whoever leads now to hand over, again
 * every try, until the stores themselves say `peer` leads.
 */
export const mustTransferLeader = (cluster: TestCluster, regionId: RegionId, peer: Peer, timeoutMs = 10_000) =>
  eventually(
    Effect.gen(function* () {
      const leader = cluster.leaderOf(regionId)
      if (leader?.id === peer.id && leader.storeId === peer.storeId) return true
      const store = leader === undefined ? undefined : cluster.store(leader.storeId)
      const region = store?.peers.get(regionId)?.region
      if (leader === undefined || store === undefined || region === undefined) return false
      const reply = yield* Deferred.make<RaftCmdResponse>()
      yield* store.router
        .send(regionId, {
          _tag: "RaftCommand",
          request: {
            header: { regionId, peer: leader, regionEpoch: region.regionEpoch, term: 0 },
            requests: [],
            adminRequest: { _tag: "TransferLeader", peer }
          },
          reply
        })
        .pipe(Effect.ignore)
      return false
    }),
    {
      what: `peer ${peer.id} on store ${peer.storeId} to lead region ${regionId}`,
      timeout: timeoutMs,
      interval: "100 millis",
      clock: waitClock(cluster)
    }
  ).pipe(Effect.asVoid)
