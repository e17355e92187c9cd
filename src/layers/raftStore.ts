/**
 * A replicated store's raftstore, as layers (TinyKV `raftstore.go` + `node.go`):
 *
 *   PeerRegistry (peers loaded from disk, mailboxes, closed flag)
 *     └─ Router (reads the registry, enqueues)
 *          └─ StoreWorker (store mailbox, creates peers)
 *               └─ RaftWorker (owns the peers: rounds, ticker, scheduler heartbeats)
 *
 * each built on the one above, over Storage, Transport and SchedulerClient. The order is the shutdown
 * order reversed: the RaftWorker stops first (a round in progress finishes: rounds are uninterruptible
 * once their batch is taken) and closes the registry, then the StoreWorker stops, and the registry's own
 * finalizer closes it again (idempotent) — from then on the Router refuses everything, and every command
 * still queued or waiting for its entry has been answered RegionNotFound.
 *
 * `startRaftStore` first records the store's identity, prepares the first region when this store is one
 * of the cluster's initial stores, bootstraps the scheduler with it (a second bootstrap is harmless) and
 * registers the store's address.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { StorageError } from "../protocol/errorpb.js"
import type { RegionId, StoreId } from "../protocol/ids.js"
import type { RaftInvariantError } from "../raft/index.js"
import { firstRegion, hasRegions, prepareRegionOps, readStoreIdent, storeIdentOps } from "../raftstore/bootstrap.js"
import { type StoreConfig, validateConfig } from "../raftstore/config.js"
import type { Peer } from "../raftstore/peer.js"
import { PeerRegistry } from "../raftstore/peerRegistry.js"
import type { DeferredWrites } from "../raftstore/deferredWrites.js"
import type { RegionRanges } from "../raftstore/regionRanges.js"
import type { RaftWorker } from "../services/RaftWorker.js"
import { Router } from "../services/Router.js"
import { SchedulerClient, type SchedulerClientError } from "../services/SchedulerClient.js"
import { orStorageError, Storage } from "../services/Storage.js"
import type { StoreWorker } from "../services/StoreWorker.js"
import type { Transport } from "../services/Transport.js"
import { layerPeerRegistry } from "./peerRegistry.js"
import { layerRaftWorker } from "./raftWorker.js"
import { layerRouter } from "./router.js"
import { layerStoreWorker } from "./storeWorker.js"

export interface StoreOptions {
  readonly storeId: StoreId
  readonly config: StoreConfig
  /** Seeds every peer's election jitter (with the region id mixed in). */
  readonly seed: number
}

export interface RaftStore {
  readonly storeId: StoreId
  readonly router: Router["Type"]
  /** The live peers, by region (read-only view for tests and status). */
  readonly peers: ReadonlyMap<RegionId, Peer>
  /** The live initialized peers' key ranges, as the overlap checks see them (tests). */
  readonly ranges: RegionRanges<Peer>
  /** The engine as the raftstore reads it: with the applies its rounds hold back (`deferredWrites.ts`). */
  readonly engine: DeferredWrites
  /** True once the store closed (shut down, or its RaftWorker died): it serves nothing any more. */
  readonly isClosed: () => boolean
  /** Regions whose peer here was stopped for a broken Raft invariant, or could not be loaded (tests, status). */
  readonly failed: ReadonlyMap<RegionId, RaftInvariantError>
}

export class InvalidStoreConfig extends Error {
  readonly _tag = "InvalidStoreConfig"
}

/** The raftstore's services, in dependency (and reverse shutdown) order. */
export const layerRaftStore = (
  options: StoreOptions
): Layer.Layer<
  PeerRegistry | Router | StoreWorker | RaftWorker,
  StorageError,
  Storage | Transport | SchedulerClient
> => {
  const problem = validateConfig(options.config)
  if (problem !== undefined) return Layer.die(new InvalidStoreConfig(`invalid store config: ${problem}`))
  // every peer times its read lease by the Effect Clock the store is built with (a TestClock in the simulator)
  return Layer.unwrapEffect(
    Effect.map(Effect.clock, (clock) => {
      const factory = { ...options, clock }
      return layerRaftWorker(factory).pipe(
        Layer.provideMerge(layerStoreWorker(factory)),
        Layer.provideMerge(layerRouter),
        Layer.provideMerge(layerPeerRegistry(factory))
      )
    })
  )
}

/** Runs the raftstore in the current scope (close it to stop the store). */
export const makeRaftStore = (
  options: StoreOptions
): Effect.Effect<RaftStore, StorageError, Storage | Transport | SchedulerClient | Scope.Scope> =>
  Effect.map(Layer.build(layerRaftStore(options)), (ctx) => ({
    storeId: options.storeId,
    router: Context.get(ctx, Router),
    peers: Context.get(ctx, PeerRegistry).peers,
    ranges: Context.get(ctx, PeerRegistry).ranges,
    engine: Context.get(ctx, PeerRegistry).engine,
    isClosed: Context.get(ctx, PeerRegistry).isClosed,
    failed: Context.get(ctx, PeerRegistry).failed
  }))

export interface RaftStoreOptions {
  readonly storeId: StoreId
  /** `HOST:PORT` other stores and clients reach this store at. */
  readonly address: string
  /** `HOST:PORT` of the store's status listener, registered so the dashboard can reach it. */
  readonly statusAddress?: string | undefined
  /** The stores of the cluster's first region (peer id = store id); empty to join an existing cluster. */
  readonly initialStores: ReadonlyArray<StoreId>
  readonly config: StoreConfig
  readonly seed: number
}

export class StoreIdentMismatch extends Error {
  readonly _tag = "StoreIdentMismatch"
}

export const startRaftStore = (
  options: RaftStoreOptions
): Effect.Effect<RaftStore, StorageError | SchedulerClientError, Storage | Transport | SchedulerClient | Scope.Scope> =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const scheduler = yield* SchedulerClient
    const { storeId } = options
    const ident = readStoreIdent(storage.latest)
    if (ident === undefined) yield* orStorageError(storage.write(storeIdentOps(storeId), { sync: true }))
    else if (ident.storeId !== storeId) {
      return yield* Effect.die(
        new StoreIdentMismatch(`the data directory belongs to store ${ident.storeId}, not ${storeId}`)
      )
    }
    const store = {
      id: storeId,
      address: options.address,
      state: "Up" as const,
      ...(options.statusAddress === undefined ? {} : { statusAddress: options.statusAddress })
    }
    if (options.initialStores.includes(storeId)) {
      const region = firstRegion(options.initialStores)
      if (!hasRegions(storage.latest)) yield* orStorageError(storage.write(prepareRegionOps(region), { sync: true }))
      yield* scheduler.bootstrap(store, region).pipe(
        Effect.catchIf(
          (e) => e._tag === "SchedulerError" && e.type === "ALREADY_BOOTSTRAPPED",
          () => Effect.void
        )
      )
    }
    yield* scheduler.putStore(store)
    const raftStore = yield* makeRaftStore({ storeId, config: options.config, seed: options.seed })
    yield* Effect.logInfo(`store ${storeId} started with ${raftStore.peers.size} region(s)`)
    return raftStore
  })
