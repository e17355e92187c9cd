/**
 * Starting a replicated store (TinyKV `node.go` `Start`): record its identity, prepare the first region
 * when this store is one of the cluster's initial stores, bootstrap the scheduler with it (a second
 * bootstrap is harmless), register the store's address, then run the raftstore.
 */
import { Effect, type Scope } from "effect"
import type { StorageError } from "../protocol/errorpb.js"
import type { StoreId } from "../protocol/ids.js"
import { firstRegion, hasRegions, prepareRegionOps, readStoreIdent, storeIdentOps } from "../raftstore/bootstrap.js"
import type { StoreConfig } from "../raftstore/config.js"
import { makeRaftStore, type RaftStore } from "../raftstore/store.js"
import { SchedulerClient, type SchedulerClientError } from "../services/SchedulerClient.js"
import { Storage } from "../services/Storage.js"
import type { Transport } from "../services/Transport.js"

export interface RaftStoreOptions {
  readonly storeId: StoreId
  /** `HOST:PORT` other stores and clients reach this store at. */
  readonly address: string
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
    if (ident === undefined) yield* storage.write(storeIdentOps(storeId), { sync: true })
    else if (ident.storeId !== storeId) {
      return yield* Effect.die(
        new StoreIdentMismatch(`the data directory belongs to store ${ident.storeId}, not ${storeId}`)
      )
    }
    const store = { id: storeId, address: options.address, state: "Up" as const }
    if (options.initialStores.includes(storeId)) {
      const region = firstRegion(options.initialStores)
      if (!hasRegions(storage.latest)) yield* storage.write(prepareRegionOps(region), { sync: true })
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
