/**
 * The cluster client: the `TinyKvClient` service over a replicated cluster, found through its
 * scheduler.
 *
 * Routing. A `RegionCache` maps the key space to regions (sorted by start key, filled from the
 * scheduler's `GetRegion` on a miss) and remembers each region's believed leader; store addresses
 * come from the scheduler's `GetStore`, cached; one connection per store address is shared by all
 * requests. A request for a key goes to the leader of the region holding it, with `context`
 * = { regionId, regionEpoch, peer: that leader }, which the store checks before serving.
 *
 * Retries. A region error means "wrong place or wrong time": the router corrects its cache
 * (NotLeader → the hinted leader; EpochNotMatch → the store's current regions; RegionNotFound /
 * KeyNotInRegion / StoreNotMatch → drop the region; unreachable or silent store → another peer)
 * and retries, at once when the cache was just corrected or an attempt timed out, else after an
 * exponential backoff (20 ms doubling to 200 ms), until the operation's deadline (default 10 s); then
 * it fails with the last error seen. Each attempt (one RPC to one store) has its own timeout (default
 * 2 s). Requests the server rejects (InvalidArgument, StorageError) fail at once. A raw write is
 * retried only when the failure proves the store never proposed it; otherwise it fails as
 * `Indeterminate` (`retrySafety.ts`). See `regionRouter.ts`.
 *
 * Multi-region operations. A scan walks regions in key order, page by page; a transaction's
 * multi-key request is regrouped by region if a split moved some of its keys (`clusterTxnBackend.ts`).
 * Timestamps come from the scheduler's TSO.
 */
import { Duration, Effect, type Scope } from "effect"
import { StoreUnavailable } from "../../rpc/errors.js"
import { connectScheduler } from "../../rpc/schedulerConnection.js"
import { connectStore } from "../../rpc/storeConnection.js"
import { loadTlsCredentials, type TlsConfigError, type TlsCredentials } from "../../rpc/tlsCredentials.js"
import type { SchedulerClient } from "../../services/SchedulerClient.js"
import type { ClientError } from "../errors.js"
import { makeClientService } from "../service.js"
import type { TxnBackend } from "../txnBackend.js"
import type { ClusterOptions, RawApi, TinyKvClientService } from "../types.js"
import { makeRawApi } from "../rawApi.js"
import { makeClusterTxnBackend } from "./clusterTxnBackend.js"
import { sendToKeys } from "./perRegion.js"
import { type Connect, makeConnectionPool } from "./connectionPool.js"
import { makeRegionCache } from "./regionCache.js"
import { failoverScheduler, schedulerAddresses } from "./schedulerFailover.js"
import { defaultRouterTiming, makeRegionRouter, type RegionRouter, sendToKey } from "./regionRouter.js"
import { toClientError } from "./routeErrors.js"
import { makeStoreAddresses } from "./storeAddresses.js"

export { makeClusterTxnBackend } from "./clusterTxnBackend.js"

/** The cluster client's options: the scheduler's address, per-attempt timeout and per-operation deadline. */
export type ClusterClientOptions = ClusterOptions

export interface ClusterRoutingOptions extends ClusterClientOptions {
  /** First wait before a retry, doubling up to `backoffMax` (defaults 20 ms and 200 ms). */
  readonly backoffBase?: Duration.DurationInput | undefined
  readonly backoffMax?: Duration.DurationInput | undefined
  /** How to open a connection to a store (default `connectStore` with `timeout`). */
  readonly connect?: Connect | undefined
  /** A store connection no request used for this long is closed (default 1 minute). */
  readonly idleTimeToLive?: Duration.DurationInput | undefined
  /** Loaded credentials for the default `connect` (instead of loading `tls` again). */
  readonly credentials?: TlsCredentials | undefined
}

/** The pieces of a cluster client, for callers that need more than the service (diagnostics, tests). */
export interface ClusterRouting {
  readonly router: RegionRouter
  readonly raw: RawApi
  readonly backend: TxnBackend<ClientError>
}

const millis = (d: Duration.DurationInput | undefined, fallback: number): number =>
  d === undefined ? fallback : Duration.toMillis(Duration.decode(d))

/** Routing, raw API and transaction backend over `scheduler`; connections close with the scope. */
export const makeClusterRouting = (
  scheduler: SchedulerClient["Type"],
  options: ClusterRoutingOptions
): Effect.Effect<ClusterRouting, never, Scope.Scope> =>
  Effect.gen(function* () {
    const timeout = options.timeout ?? "2 seconds"
    const tls = options.credentials
    const connect = options.connect ?? ((address: string) => connectStore(address, { timeout, tls }))
    const pool = yield* makeConnectionPool(connect, { idleTimeToLive: options.idleTimeToLive })
    const schedulerName = schedulerAddresses(options.scheduler).join(",")
    const router = makeRegionRouter(makeRegionCache(scheduler), makeStoreAddresses(scheduler), pool, {
      scheduler: schedulerName,
      deadlineMs: millis(options.deadline, defaultRouterTiming.deadlineMs),
      backoffBaseMs: millis(options.backoffBase, defaultRouterTiming.backoffBaseMs),
      backoffMaxMs: millis(options.backoffMax, defaultRouterTiming.backoffMaxMs)
    })
    // the scheduler client retries on its own, up to its deadline
    const tso = Effect.mapError(scheduler.tso(1), (e) => toClientError(e, schedulerName))
    return {
      router,
      raw: makeRawApi(sendToKey(router), sendToKeys(router)),
      backend: makeClusterTxnBackend(router, tso)
    }
  })

/** The `TinyKvClient` service over `scheduler` (an existing scheduler client). */
export const makeClusterClientWith = (
  scheduler: SchedulerClient["Type"],
  options: ClusterRoutingOptions
): Effect.Effect<TinyKvClientService, never, Scope.Scope> =>
  Effect.map(makeClusterRouting(scheduler, options), ({ router, backend }) =>
    makeClientService(sendToKey(router), sendToKeys(router), backend)
  )

/**
 * The `TinyKvClient` service for the cluster whose scheduler is at `options.scheduler`. Nothing is
 * dialled until the first request; connections close with the scope.
 */
export const makeClusterClient = (
  options: ClusterClientOptions
): Effect.Effect<TinyKvClientService, StoreUnavailable | TlsConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    const addresses = schedulerAddresses(options.scheduler)
    if (addresses.length === 0) {
      return yield* Effect.fail(new StoreUnavailable({ address: "", message: "no scheduler address given" }))
    }
    const credentials = options.tls === undefined ? undefined : yield* loadTlsCredentials(options.tls)
    // with several schedulers, give up on one after an attempt's timeout and ask the next
    const perScheduler = addresses.length > 1 ? (options.timeout ?? "2 seconds") : options.deadline
    const schedulers = yield* Effect.forEach(addresses, (address) =>
      connectScheduler({
        address,
        tls: credentials,
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
        ...(perScheduler !== undefined ? { deadline: perScheduler } : {})
      }).pipe(Effect.mapError((e) => new StoreUnavailable({ address: e.address, message: `scheduler: ${e.message}` })))
    )
    return yield* makeClusterClientWith(failoverScheduler(schedulers), { ...options, credentials })
  })
