/**
 * SchedulerClient: a store's view of the scheduler (TinyKV `scheduler_client.Client`). Two layers:
 * `layerClientLocal` runs the scheduler logic in-process (tests, simulation, single-process runs;
 * several stores share one `Scheduler`), `layerClientRpc` talks to a `tinykv scheduler` over TCP.
 *
 * Failures the scheduler decides are `SchedulerError` (with its wire `type`: NOT_BOOTSTRAPPED,
 * ALREADY_BOOTSTRAPPED, STORE_TOMBSTONE, STALE_REGION, …); a scheduler that cannot be reached within
 * the call's deadline is `SchedulerUnavailable`.
 */
import { Context, Data, type Effect, type Option } from "effect"
import type { PeerId, RegionId, StoreId, Timestamp } from "../protocol/ids.js"
import type { Peer, Region, Store } from "../protocol/metapb.js"
import type { RegionHeartbeatResponse, SchedulerError, StoreStats } from "../protocol/scheduler.js"

/** The scheduler could not be reached or did not answer within the call's deadline (after retries). */
export class SchedulerUnavailable extends Data.TaggedError("SchedulerUnavailable")<{
  readonly address: string
  readonly message: string
  /** True when TLS refused the connection (a certificate, or TLS on one end only): retrying will not help. */
  readonly refused?: boolean | undefined
}> {}

export type SchedulerClientError = SchedulerError | SchedulerUnavailable

/** What a region's leader reports (TinyKV `RegionHeartbeatRequest` without the header). */
export interface RegionHeartbeat {
  readonly region: Region
  readonly leader: Peer
  readonly pendingPeers: ReadonlyArray<Peer>
  /** Bytes; the scheduler keeps MiB (at least 1). */
  readonly approximateSize: number
}

/** A region with its leader as last reported (`undefined` until a leader heartbeats). */
export interface RegionAndLeader {
  readonly region: Region
  readonly leader: Peer | undefined
}

export interface SplitIds {
  readonly newRegionId: RegionId
  /** One per peer of the split region, in the order of its `peers`. */
  readonly newPeerIds: ReadonlyArray<PeerId>
}

type Call<A> = Effect.Effect<A, SchedulerClientError>

/** What the scheduler answers a store heartbeat with. */
export interface StoreHeartbeatAnswer {
  readonly regionsToReport: ReadonlyArray<RegionId>
}

export class SchedulerClient extends Context.Tag("tinykv/SchedulerClient")<
  SchedulerClient,
  {
    /** Creates the cluster with its first store and region; ALREADY_BOOTSTRAPPED if it exists. */
    readonly bootstrap: (store: Store, region: Region) => Call<void>
    /** Whether the cluster has been bootstrapped. */
    readonly isBootstrapped: Call<boolean>
    /** A fresh cluster-wide unique id (stores, regions, peers). */
    readonly allocId: Call<number>
    /** Registers this store or updates its address; STORE_TOMBSTONE for a removed store. */
    readonly putStore: (store: Store) => Call<void>
    /** A store's meta; STORE_NOT_FOUND if unknown, NOT_BOOTSTRAPPED before bootstrap. */
    readonly getStore: (storeId: StoreId) => Call<Store>
    /** Every registered store, tombstones included unless excluded. */
    readonly getAllStores: (options?: { readonly excludeTombstones?: boolean }) => Call<ReadonlyArray<Store>>
    /**
     * Reports a store's stats (and that it is alive); the answer names the regions this store leads that have an
     * operator waiting, which the store then reports at once (`StoreHeartbeatResponse`).
     */
    readonly storeHeartbeat: (stats: StoreStats) => Call<StoreHeartbeatAnswer>
    /** Reports a region as its leader sees it; the answer is the next operator step for it, if any. */
    readonly regionHeartbeat: (heartbeat: RegionHeartbeat) => Call<Option.Option<RegionHeartbeatResponse>>
    /** The region containing `key` and its leader, or `undefined` when no region is known there. */
    readonly getRegion: (key: Uint8Array) => Call<RegionAndLeader | undefined>
    /** A region by id and its leader, or `undefined`. */
    readonly getRegionById: (regionId: RegionId) => Call<RegionAndLeader | undefined>
    /** Regions intersecting `[startKey, endKey)` (empty end: to the end) in key order, at most `limit` (≤ 0: all). */
    readonly scanRegions: (
      startKey: Uint8Array,
      endKey: Uint8Array,
      limit?: number
    ) => Call<ReadonlyArray<RegionAndLeader>>
    /** Ids for splitting `region`: a new region id and one new peer id per peer. */
    readonly askSplit: (region: Region) => Call<SplitIds>
    /** Tells the scheduler a split finished (`left` ends where `right` starts). */
    readonly reportSplit: (left: Region, right: Region) => Call<void>
    /** Reserves `count` consecutive timestamps and returns the last one. */
    readonly tso: (count: number) => Call<Timestamp>
  }
>() {}
