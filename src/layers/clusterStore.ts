/**
 * A replicated store process (`tinykv server`): the lmdb engine, the scheduler over RPC, the RPC
 * transport to other stores (addresses resolved through the scheduler and cached), the raftstore,
 * and the store's RPC server whose KV handlers go through Raft and whose Raft handlers feed the
 * Router.
 */
import { join } from "node:path"
import { Context, Duration, Effect, Layer } from "effect"
import type { StoreId } from "../protocol/ids.js"
import type { RaftEngine, StoreConfig } from "../raftstore/config.js"
import { layerHandlersWith } from "../server/handlers.js"
import { makeRaftHandlers } from "../server/raftHandlers.js"
import { layerRpcServer, layerSocketServer } from "../server/serve.js"
import { Health } from "../services/Health.js"
import { Router } from "../services/Router.js"
import { SchedulerClient } from "../services/SchedulerClient.js"
import { Storage } from "../services/Storage.js"
import { layerKvStorageRaft } from "./kvStorageRaft.js"
import { startRaftStore } from "./raftStore.js"
import { layerClientRpc } from "./schedulerClientRpc.js"
import { layerLmdb } from "./storageLmdb.js"
import { layerStorageMetered } from "./storageMetered.js"
import { layerRaftLogged, refuseRaftLog } from "./storageRaftLogged.js"
import { SegmentedLog } from "../raftlog/segmentedLog.js"
import { makeStoreHealth } from "./storeHealth.js"
import { layerTransportRpc } from "./transportRpc.js"
import { layerTsoScheduler } from "./tsoScheduler.js"
import { readStoreIdent } from "../raftstore/bootstrap.js"
import { layerWithTls, type TlsCredentials, type TlsOptions } from "../rpc/tlsCredentials.js"

export interface ClusterStoreOptions {
  readonly host: string
  readonly port: number
  /** What other stores and clients dial; defaults to `host:port`. */
  readonly advertise?: string | undefined
  /** `HOST:PORT` of this store's status listener, registered with the scheduler (for the dashboard). */
  readonly statusAddress?: string | undefined
  readonly dataDir: string
  readonly scheduler: string
  /** This store's id; when absent, the id recorded in the data dir, else a fresh one from the scheduler. */
  readonly storeId?: number | undefined
  /** The stores of the first region when bootstrapping a new cluster (peer id = store id). */
  readonly initialStores: ReadonlyArray<number>
  /** Stores dialled at these addresses instead of the scheduler's (a fault-injecting proxy per link). */
  readonly peerAddresses?: ReadonlyMap<number, string> | undefined
  readonly config: StoreConfig
  /**
   * Mutual TLS on every link of the store — its listener (clients and other stores), its dials to
   * other stores and to the scheduler — with these files (reloaded when they change).
   */
  readonly tls?: TlsOptions | undefined
  /**
   * Where the raft log and states live: `log`, a raft log of its own in `<dataDir>/raftlog`
   * (`storageRaftLogged.ts`), or `lmdb`, the engine's `raft` space (default `log`).
   */
  readonly raftEngine?: RaftEngine | undefined
}

/**
 * A raft log segment's size: large enough that a round's record seldom rolls over (a roll syncs the directory),
 * small enough that a released segment frees little at a time. Two released ones are kept for reuse.
 */
const RAFT_LOG_SEGMENT_BYTES = 16 * 1024 * 1024

/** Store addresses change rarely; TinyKV caches them for 60 s. */
const ADDRESS_TTL = Duration.seconds(60)

const layerTransport = (tls: TlsCredentials | undefined, overrides: ReadonlyMap<number, string>) =>
  Layer.unwrapEffect(
    Effect.map(SchedulerClient, (scheduler) => {
      const cache = new Map<StoreId, { address: string; at: number }>()
      return layerTransportRpc({
        tls,
        resolve: (storeId) =>
          Effect.gen(function* () {
            const override = overrides.get(storeId)
            if (override !== undefined) return override
            const hit = cache.get(storeId)
            const now = Date.now()
            if (hit && now - hit.at < Duration.toMillis(ADDRESS_TTL)) return hit.address
            const store = yield* scheduler.getStore(storeId).pipe(Effect.orElseSucceed(() => undefined))
            if (store === undefined || store.state === "Tombstone") return undefined
            cache.set(storeId, { address: store.address, at: now })
            return store.address
          })
      })
    })
  )

const layerClusterStoreWith = (options: ClusterStoreOptions, tls: TlsCredentials | undefined) => {
  const address = options.advertise ?? `${options.host}:${options.port}`
  // the RaftWorker's round is the engine's one writer, and waits for each write (`inlineCommits`)
  const engine = layerLmdb(join(options.dataDir, "engine"), { inlineCommits: true })
  const raftLogDir = join(options.dataDir, "raftlog")
  const storage = layerStorageMetered(
    (options.raftEngine ?? "log") === "log"
      ? layerRaftLogged(
          () => SegmentedLog.openDevice(raftLogDir, { segmentBytes: RAFT_LOG_SEGMENT_BYTES, keepFree: 2 }),
          engine
        )
      : Layer.provide(refuseRaftLog(raftLogDir), engine)
  )
  const scheduler = layerClientRpc({ address: options.scheduler, tls })
  // the Router for the handlers, and the store's Health for its status listener
  const router = Layer.scopedContext(
    Effect.gen(function* () {
      const engine = yield* Storage
      const client = yield* SchedulerClient
      const known = readStoreIdent(engine.latest)?.storeId
      const storeId = (options.storeId ?? known ?? (yield* client.allocId)) as StoreId
      const store = yield* startRaftStore({
        storeId,
        address,
        statusAddress: options.statusAddress,
        initialStores: options.initialStores as ReadonlyArray<StoreId>,
        config: options.config,
        seed: Date.now() ^ (storeId * 2654435761)
      }).pipe(Effect.annotateLogs({ storeId }))
      return Context.make(Router, store.router).pipe(Context.add(Health, makeStoreHealth(store)))
    })
  ).pipe(Layer.provide(layerTransport(tls, options.peerAddresses ?? new Map())))
  const handlers = layerHandlersWith(
    Effect.flatMap(Router, (r) => makeRaftHandlers(r.sendRaftMessage, {}, r.sendRaftMessageNow))
  )
  return layerRpcServer(handlers).pipe(
    Layer.provide(layerKvStorageRaft({ commandTimeoutMs: options.config.commandTimeoutMs })),
    Layer.provide(layerTsoScheduler),
    Layer.provideMerge(router),
    Layer.provide(Layer.merge(storage, scheduler)),
    Layer.provide(layerSocketServer({ host: options.host, port: options.port }, tls))
  )
}

export const layerClusterStore = (options: ClusterStoreOptions) =>
  layerWithTls(options.tls, (tls) => layerClusterStoreWith(options, tls))
