/**
 * The scheduler process: the `Scheduler` service over an engine, served as `SchedulerRpcs` over TCP
 * with msgpack framing (`tinykv scheduler`). Data lives in an lmdb environment under `dataDir`, or
 * in memory when `dataDir` is undefined (tests).
 */
import type { SocketServer } from "@effect/platform/SocketServer"
import { RpcServer } from "@effect/rpc"
import { Duration, Effect, Layer } from "effect"
import { DEFAULT_SCHEDULE_INTERVAL_MS } from "../scheduler/config.js"
import { layerCoordinator } from "../scheduler/coordinator.js"
import type { StorageError } from "../protocol/errorpb.js"
import { SchedulerRpcs } from "../protocol/schedulerRpcs.js"
import { makeRequestMetrics } from "../rpc/requestMetrics.js"
import { rpcTracingEnabled } from "../rpc/tracing.js"
import { makeScheduler, Scheduler, type SchedulerOptions } from "../scheduler/service.js"
import { layerLoggedMsgPack, layerSocketServer, type ListenOptions } from "../server/serve.js"
import type { Storage } from "../services/Storage.js"
import { layerLmdb } from "./storageLmdb.js"
import { layerMemory } from "./storageMemory.js"
import { layerWithTls, type TlsOptions } from "../rpc/tlsCredentials.js"

/** The scheduler service over the engine in context. */
export const layerScheduler = (options: SchedulerOptions = {}): Layer.Layer<Scheduler, StorageError, Storage> =>
  Layer.effect(Scheduler, makeScheduler(options))

/** The scheduler service over its own engine: lmdb under `dataDir`, or memory when undefined. */
export const layerSchedulerData = (
  dataDir: string | undefined,
  options: SchedulerOptions = {}
): Layer.Layer<Scheduler, StorageError> =>
  layerScheduler(options).pipe(Layer.provide(dataDir === undefined ? layerMemory : layerLmdb(dataDir)))

/** The scheduler's request metrics (`tinykv_scheduler_requests_total`, heartbeats and TSO calls among them). */
const schedulerRequests = makeRequestMetrics("tinykv_scheduler", "scheduler requests")

/** The RPC handlers: each call goes straight to the service. */
export const layerSchedulerHandlers = SchedulerRpcs.toLayer(
  Effect.map(Scheduler, (s) =>
    schedulerRequests.instrument({
      GetMembers: () => s.getMembers,
      Tso: (req) => s.tso(req),
      Bootstrap: (req) => s.bootstrap(req),
      IsBootstrapped: (req) => s.isBootstrapped(req),
      AllocId: (req) => s.allocId(req),
      GetStore: (req) => s.getStore(req),
      PutStore: (req) => s.putStore(req),
      GetAllStores: (req) => s.getAllStores(req),
      StoreHeartbeat: (req) => s.storeHeartbeat(req),
      RegionHeartbeat: (req) => s.regionHeartbeat(req),
      GetRegion: (req) => s.getRegion(req),
      GetPrevRegion: (req) => s.getPrevRegion(req),
      GetRegionById: (req) => s.getRegionById(req),
      ScanRegions: (req) => s.scanRegions(req),
      AskSplit: (req) => s.askSplit(req),
      ReportSplit: (req) => s.reportSplit(req),
      GetClusterConfig: (req) => s.getClusterConfig(req),
      PutClusterConfig: (req) => s.putClusterConfig(req),
      GetGcSafePoint: (req) => s.getGcSafePoint(req),
      UpdateGcSafePoint: (req) => s.updateGcSafePoint(req),
      GetOperator: (req) => s.getOperator(req),
      AddOperator: (req) => s.addAdminOperator(req),
      ListOperators: (req) => s.listOperators(req),
      SplitRegion: (req) => s.splitRegion(req),
      SetStoreState: (req) => s.setStoreState(req.storeId, req.state),
      ScanRegionDetails: (req) => s.scanRegionDetails(req)
    } satisfies Parameters<typeof SchedulerRpcs.of>[0])
  )
)

/** Serves the `Scheduler` in context on an existing `SocketServer` (so tests can bind port 0). */
export const layerSchedulerRpc: Layer.Layer<never, never, Scheduler | SocketServer> = Layer.unwrapEffect(
  Effect.map(rpcTracingEnabled, (tracing) =>
    RpcServer.layer(SchedulerRpcs, { disableTracing: !tracing, concurrency: "unbounded" })
  )
).pipe(
  Layer.provide(layerSchedulerHandlers),
  Layer.provide(RpcServer.layerProtocolSocketServer),
  Layer.provide(layerLoggedMsgPack)
)

export interface SchedulerServerOptions extends ListenOptions, SchedulerOptions {
  readonly dataDir: string | undefined
  /**
   * How often the coordinator runs its checkers (default 1 s); `false` turns it off (tests that
   * place every replica themselves).
   */
  readonly scheduleInterval?: Duration.DurationInput | false | undefined
  /** Serve mutual TLS only, with these files (reloaded when they change). */
  readonly tls?: TlsOptions | undefined
}

/**
 * A whole scheduler: engine, service and RPC server listening on `host:port`. The `SocketServer`
 * (its bound address: port 0 picks a free one) and the `Scheduler` (admin calls) are outputs.
 */
export const layerServer = (options: SchedulerServerOptions): Layer.Layer<Scheduler | SocketServer, unknown> =>
  Layer.mergeAll(
    layerSchedulerRpc,
    options.scheduleInterval === false
      ? Layer.empty
      : layerCoordinator(options.scheduleInterval ?? Duration.millis(DEFAULT_SCHEDULE_INTERVAL_MS))
  ).pipe(
    Layer.provideMerge(layerWithTls(options.tls, (tls) => layerSocketServer(options, tls))),
    Layer.provideMerge(
      layerSchedulerData(options.dataDir, { advertiseAddress: `${options.host}:${options.port}`, ...options })
    )
  )
