/**
 * Scheduler: the scheduler's server side as an Effect service — one `SchedulerCore` behind a
 * single-writer lock, the clock, and persistence of every change in the engine (`Storage`, `meta`
 * space). Served over RPC by `layers/schedulerServer.ts`; used in-process by
 * `layers/schedulerClientLocal.ts`.
 *
 * Each call takes the lock, runs the pure logic, writes what it recorded (synced when an id or
 * timestamp high-water mark moved, so nothing handed out can be handed out again after a crash) and
 * only then answers. If the write fails the state is reloaded from the engine, so memory never runs
 * ahead of what is durable, and the call fails.
 */
import { Clock, Context, Effect, Option, Random } from "effect"
import type { StorageError } from "../protocol/errorpb.js"
import type { RegionId, StoreId, Timestamp } from "../protocol/ids.js"
import type { StoreState } from "../protocol/metapb.js"
import * as S from "../protocol/scheduler.js"
import { orStorageError, Storage } from "../services/Storage.js"
import { type CoreOptions, SchedulerCore } from "./core.js"
import { ok, type Result } from "./errors.js"
import { recordOperatorEvent, recordTimestamps } from "./metrics.js"
import type { OperatorStep } from "./operator.js"
import { decodeState, encodeU64, KEY_CLUSTER_ID, PREFIX, PREFIX_END } from "./persist.js"
import type { RegionInfo } from "./regionInfo.js"
import type { Proposal } from "./view.js"

type E = S.SchedulerError
type Header = { readonly header: S.RequestHeader }

export class Scheduler extends Context.Tag("tinykv/Scheduler")<
  Scheduler,
  {
    /** This scheduler's cluster id (chosen on first start, persisted). */
    readonly clusterId: number
    /** This member and the leader (itself: there is one scheduler). */
    readonly getMembers: Effect.Effect<S.GetMembersResponse>
    /** `count` consecutive timestamps; returns the last. */
    readonly tso: (req: S.TsoRequest) => Effect.Effect<S.TsoResponse, E>
    /** Creates the cluster with its first store and region; ALREADY_BOOTSTRAPPED the second time. */
    readonly bootstrap: (req: S.BootstrapRequest) => Effect.Effect<void, E>
    /** Whether a cluster exists. */
    readonly isBootstrapped: (req: Header) => Effect.Effect<S.IsBootstrappedResponse, E>
    /** A fresh unique id. */
    readonly allocId: (req: Header) => Effect.Effect<S.AllocIdResponse, E>
    /** A store's meta and last stats; STORE_NOT_FOUND if unknown. */
    readonly getStore: (req: S.GetStoreRequest) => Effect.Effect<S.GetStoreResponse, E>
    /** Registers a store or updates its address. */
    readonly putStore: (req: S.PutStoreRequest) => Effect.Effect<void, E>
    /** Every store, optionally without tombstones. */
    readonly getAllStores: (req: S.GetAllStoresRequest) => Effect.Effect<S.GetAllStoresResponse, E>
    /** Records a store's stats and heartbeat time. */
    readonly storeHeartbeat: (req: S.StoreHeartbeatRequest) => Effect.Effect<S.StoreHeartbeatResponse, E>
    /** Applies a region report; answers with an operator step for the region, if one is running. */
    readonly regionHeartbeat: (
      req: S.RegionHeartbeatRequest
    ) => Effect.Effect<Option.Option<S.RegionHeartbeatResponse>, E>
    /** The region containing a key. */
    readonly getRegion: (req: S.GetRegionRequest) => Effect.Effect<S.GetRegionResponse, E>
    /** The region adjacent before the one containing a key. */
    readonly getPrevRegion: (req: S.GetRegionRequest) => Effect.Effect<S.GetRegionResponse, E>
    /** A region by id. */
    readonly getRegionById: (req: S.GetRegionByIdRequest) => Effect.Effect<S.GetRegionResponse, E>
    /** Regions intersecting a key range, with their leaders. */
    readonly scanRegions: (req: S.ScanRegionsRequest) => Effect.Effect<S.ScanRegionsResponse, E>
    /** Ids for the new region of a split and its peers. */
    readonly askSplit: (req: S.AskSplitRequest) => Effect.Effect<S.AskSplitResponse, E>
    /** Checks a finished split. */
    readonly reportSplit: (req: S.ReportSplitRequest) => Effect.Effect<void, E>
    /** The cluster meta. */
    readonly getClusterConfig: (req: Header) => Effect.Effect<S.GetClusterConfigResponse, E>
    /** Replaces the cluster meta (same id). */
    readonly putClusterConfig: (req: S.PutClusterConfigRequest) => Effect.Effect<void, E>
    /** The GC safe point. */
    readonly getGcSafePoint: (req: Header) => Effect.Effect<S.GcSafePointResponse, E>
    /** Moves the GC safe point forward; returns the one in force. */
    readonly updateGcSafePoint: (req: S.UpdateGcSafePointRequest) => Effect.Effect<S.GcSafePointResponse, E>
    /** The running or last operator of a region. */
    readonly getOperator: (req: S.GetOperatorRequest) => Effect.Effect<S.GetOperatorResponse, E>
    /** Admin: a transfer-leader / add-peer / remove-peer operator for a region (replaces a running one). */
    readonly addAdminOperator: (req: S.AddOperatorRequest) => Effect.Effect<S.OperatorInfo, E>
    /** Running operators, then the last finished one of every other region. */
    readonly listOperators: (req: Header) => Effect.Effect<S.ListOperatorsResponse, E>
    /** Admin: records a split request, handed to the region's leader as a split step. */
    readonly splitRegion: (req: S.SplitRegionRequest) => Effect.Effect<S.OperatorInfo, E>
    /** Regions intersecting a key range with everything their last heartbeat said. */
    readonly scanRegionDetails: (req: S.ScanRegionsRequest) => Effect.Effect<S.ScanRegionDetailsResponse, E>
    /** One coordinator pass (the background loop calls it every interval); what it started. */
    readonly schedule: Effect.Effect<ReadonlyArray<Proposal>>
    /** Admin: queues an operator whose steps go out with the region's heartbeats. */
    readonly addOperator: (
      regionId: RegionId,
      desc: string,
      steps: ReadonlyArray<OperatorStep>
    ) => Effect.Effect<void, E>
    /** Admin: marks a store Offline or Tombstone. */
    readonly setStoreState: (storeId: StoreId, state: StoreState) => Effect.Effect<void, E>
    /** Runs a read-only function on the current state under the lock (tests, tools). */
    readonly inspect: <A>(f: (core: SchedulerCore) => A) => Effect.Effect<A>
  }
>() {}

export interface SchedulerOptions extends CoreOptions {
  /** Die on a heartbeat no correct store can send (TinyKV's mock scheduler panics); else log a warning. */
  readonly strict?: boolean | undefined
  /** The address clients reach this scheduler at, reported by GetMembers. */
  readonly advertiseAddress?: string | undefined
}

const toGetRegionResponse = (info: RegionInfo | undefined): S.GetRegionResponse => {
  if (info === undefined) return { slaves: [] }
  const { region, leader } = info
  const slaves = region.peers.filter((p) => p.id !== leader?.id)
  return leader === undefined ? { region, slaves } : { region, leader, slaves }
}

const toRegionWithLeader = ({ region, leader }: RegionInfo): S.RegionWithLeader =>
  leader === undefined ? { region } : { region, leader }

const toRegionDetail = ({ region, leader, pendingPeers, approximateSize }: RegionInfo): S.RegionDetail =>
  leader === undefined ? { region, pendingPeers, approximateSize } : { region, leader, pendingPeers, approximateSize }

/** Builds the service over the engine in context, loading whatever a previous run persisted. */
export const makeScheduler = (
  options: SchedulerOptions = {}
): Effect.Effect<Scheduler["Type"], StorageError, Storage> =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const load = Effect.map(storage.scan("meta", { start: PREFIX, end: PREFIX_END }), decodeState)
    const initial = yield* load
    let clusterId = initial.clusterId
    if (clusterId === undefined) {
      // TinyKV derives it from the start time plus randomness; it must fit a JS safe integer
      clusterId = (yield* Clock.currentTimeMillis) * 1024 + (yield* Random.nextIntBetween(0, 1024))
      yield* orStorageError(
        storage.write([{ _tag: "Put", space: "meta", key: KEY_CLUSTER_ID, value: encodeU64(BigInt(clusterId)) }], {
          sync: true
        })
      )
    }
    const id = clusterId
    const coreOptions = { ...options, startedMs: yield* Clock.currentTimeMillis }
    let core = new SchedulerCore(id, initial, coreOptions)
    const lock = yield* Effect.makeSemaphore(1)

    // --- persistence: drain the core's write log; on failure fall back to what is durable ---
    const persist: Effect.Effect<void, E> = Effect.suspend(() => {
      const { ops, sync } = core.log.take()
      if (ops.length === 0) return Effect.void
      return orStorageError(storage.write(ops, { sync })).pipe(
        Effect.catchAll((e) =>
          load.pipe(
            Effect.tap((state) =>
              Effect.sync(() => {
                core = new SchedulerCore(id, state, coreOptions)
              })
            ),
            Effect.orDie,
            Effect.zipRight(
              Effect.fail(new S.SchedulerError({ type: "UNKNOWN", message: `scheduler storage: ${e.message}` }))
            )
          )
        )
      )
    })
    // restoring may have dropped overlapped regions: persist that before serving
    yield* persist.pipe(Effect.orDie)

    /**
     * One call: header check, the logic at the current time, persistence, then the answer.
     * Uninterruptible once it holds the lock: a caller that gives up (an RPC client's timeout
     * interrupts the handler) must not leave memory ahead of the engine, e.g. an id batch in use
     * whose high-water mark was never written.
     */
    const run = <A>(header: S.RequestHeader, f: (core: SchedulerCore, nowMs: number) => Result<A>) =>
      lock.withPermits(1)(
        Effect.uninterruptible(
          Effect.gen(function* () {
            yield* core.checkHeader(header)
            const now = yield* Clock.currentTimeMillis
            const result = f(core, now)
            yield* persist
            return yield* result
          })
        )
      )
    /** A call that changes nothing; same path, so it sees a state consistent with the engine. */
    const read = <A>(header: S.RequestHeader, f: (core: SchedulerCore) => Result<A>) => run(header, (c) => f(c))

    /** Every operator started or finished since the last call, as an info line (what an operator watches). */
    const logOperatorEvents = Effect.suspend(() =>
      Effect.forEach(core.operators.drainEvents(), (e) =>
        Effect.logInfo(`operator ${e.status === "RUNNING" ? "started" : e.status}: ${e.op.desc}`).pipe(
          Effect.annotateLogs({ regionId: e.regionId, kind: e.op.kind }),
          Effect.zipLeft(Effect.sync(() => recordOperatorEvent(e.op.kind, e.status)))
        )
      )
    )

    const member = {
      name: "scheduler",
      memberId: 1,
      peerUrls: [],
      clientUrls: options.advertiseAddress === undefined ? [] : [options.advertiseAddress]
    }

    return Scheduler.of({
      clusterId: id,
      getMembers: Effect.succeed({ header: { clusterId: id }, members: [member], leader: member }),
      tso: (req) =>
        run(req.header, (c, now) => c.tso(req.count, now)).pipe(
          Effect.map((timestamp: Timestamp) => {
            recordTimestamps(req.count)
            return { count: req.count, timestamp }
          })
        ),
      bootstrap: (req) => run(req.header, (c) => c.bootstrap(req.store, req.region)),
      isBootstrapped: (req) => read(req.header, (c) => ok({ bootstrapped: c.isBootstrapped() })),
      allocId: (req) => run(req.header, (c) => ok({ id: c.allocId() })),
      getStore: (req) =>
        read(req.header, (c) => c.getStore(req.storeId)).pipe(
          Effect.map((s) => (s.stats === undefined ? { store: s.store } : { store: s.store, stats: s.stats }))
        ),
      putStore: (req) => run(req.header, (c) => c.putStore(req.store)),
      getAllStores: (req) =>
        run(req.header, (c, now) => c.storeDetails(now, req.excludeTombstoneStores)).pipe(
          Effect.map((details) => ({ stores: details.map((d) => d.store), details }))
        ),
      storeHeartbeat: (req) => run(req.header, (c, now) => c.storeHeartbeat(req.stats, now)),
      regionHeartbeat: (req) =>
        run(req.header, (c, now) => c.regionHeartbeat(req, now)).pipe(
          Effect.tap(({ anomaly }) =>
            anomaly === undefined
              ? Effect.void
              : options.strict
                ? Effect.dieMessage(`scheduler (strict): ${anomaly}`)
                : Effect.logWarning(anomaly)
          ),
          Effect.tap(logOperatorEvents),
          Effect.map(({ response }) => Option.fromNullable(response)),
          Effect.annotateLogs({ regionId: req.region.id, storeId: req.leader.storeId })
        ),
      getRegion: (req) => read(req.header, (c) => c.getRegion(req.regionKey)).pipe(Effect.map(toGetRegionResponse)),
      getPrevRegion: (req) =>
        read(req.header, (c) => c.getPrevRegion(req.regionKey)).pipe(Effect.map(toGetRegionResponse)),
      getRegionById: (req) =>
        read(req.header, (c) => c.getRegionById(req.regionId)).pipe(Effect.map(toGetRegionResponse)),
      scanRegions: (req) =>
        read(req.header, (c) => c.scanRegions(req.startKey, req.endKey, req.limit)).pipe(
          Effect.map((infos) => ({ regions: infos.map(toRegionWithLeader) }))
        ),
      askSplit: (req) => run(req.header, (c) => c.askSplit(req.region)),
      reportSplit: (req) => read(req.header, (c) => c.reportSplit(req.left, req.right)),
      getClusterConfig: (req) =>
        read(req.header, (c) => c.clusterConfig()).pipe(Effect.map((cluster) => ({ cluster }))),
      putClusterConfig: (req) => run(req.header, (c) => c.putClusterConfig(req.cluster)),
      getGcSafePoint: (req) => read(req.header, (c) => ok({ safePoint: c.getGcSafePoint() as Timestamp })),
      updateGcSafePoint: (req) =>
        run(req.header, (c) => ok({ safePoint: c.updateGcSafePoint(req.safePoint) as Timestamp })),
      getOperator: (req) =>
        read(req.header, (c) => c.getOperator(req.regionId)).pipe(
          Effect.map((op) => ({ regionId: req.regionId, desc: op.desc, status: op.status, kind: op.kind }))
        ),
      addAdminOperator: (req) =>
        run(req.header, (c, now) => c.addAdminOperator(req.regionId, req.kind, req.storeId, now)).pipe(
          Effect.tap(logOperatorEvents)
        ),
      listOperators: (req) =>
        read(req.header, (c) => c.listOperators()).pipe(Effect.map((operators) => ({ operators }))),
      splitRegion: (req) =>
        run(req.header, (c, now) => c.splitRegion(req.regionId, req.splitKey, now)).pipe(Effect.tap(logOperatorEvents)),
      scanRegionDetails: (req) =>
        read(req.header, (c) => c.scanRegions(req.startKey, req.endKey, req.limit)).pipe(
          Effect.map((infos) => ({ regions: infos.map(toRegionDetail) }))
        ),
      schedule: run({ clusterId: 0 }, (c, now) => (c.isBootstrapped() ? c.schedule(now) : ok([]))).pipe(
        Effect.tap(logOperatorEvents),
        // the pass itself cannot fail; only persisting its id allocations can, and the next pass retries
        Effect.catchAll((e) => Effect.as(Effect.logWarning(`scheduler: coordinator pass failed: ${e.message}`), []))
      ),
      addOperator: (regionId, desc, steps) =>
        run({ clusterId: 0 }, (c, now) => c.addOperator(regionId, desc, steps, now)),
      setStoreState: (storeId, state) => run({ clusterId: 0 }, (c) => c.setStoreState(storeId, state)),
      inspect: (f) => lock.withPermits(1)(Effect.sync(() => f(core)))
    })
  })
