/**
 * The scheduler's whole state and the semantics of every RPC (TinyKV `scheduler/server/server.go` +
 * `grpc_service.go`), as a plain synchronous object: the Effect service around it
 * (`service.ts`) only serializes calls, supplies the clock and persists `log`'s writes.
 *
 * Works before bootstrap: AllocId (a store allocates its own ids before it bootstraps), Tso,
 * IsBootstrapped, Bootstrap, GC safe point. Everything about stores and regions needs the cluster
 * and fails with NOT_BOOTSTRAPPED until then.
 */
import { Either } from "effect"
import type { PeerId, RegionId, StoreId, Timestamp } from "../protocol/ids.js"
import type { Cluster, Peer, Region, Store, StoreState } from "../protocol/metapb.js"
import type {
  AdminOperatorKind,
  OperatorInfo,
  RegionHeartbeatResponse,
  RequestHeader,
  StoreDetail,
  StoreHeartbeatResponse,
  StoreStats
} from "../protocol/scheduler.js"
import { type AdminPlan, planAdminOperator, planSplit } from "./adminOperators.js"
import { checkReportSplit, RaftCluster } from "./cluster.js"
import { defaultScheduleConfig, type ScheduleConfig } from "./config.js"
import { fail, notBootstrapped, ok, type Result } from "./errors.js"
import { IdAllocator } from "./idAllocator.js"
import { makeOperator, type Operator, type OperatorStep } from "./operator.js"
import { OperatorController } from "./operatorController.js"
import { clusterCodec, encodeU64, KEY_CLUSTER, KEY_GC_SAFE_POINT, type PersistedState, WriteLog } from "./persist.js"
import { type RegionInfo, regionInfo } from "./regionInfo.js"
import { schedulePass } from "./schedulePass.js"
import { drainedStores, holdsLiveReplica, storeStatus, toStoreDetail } from "./storeState.js"
import type { StoreInfo } from "./stores.js"
import { TimestampOracle } from "./tso.js"
import { buildView, type ClusterView, type Proposal } from "./view.js"

/** Any of the schedule settings (the rest default, see `config.ts`). */
export type ScheduleOptions = { readonly [K in keyof ScheduleConfig]?: ScheduleConfig[K] | undefined }

export interface CoreOptions extends ScheduleOptions {
  /**
   * Clock ms when the scheduler started: a store not heard from since counts as silent since then
   * (heartbeat times are not persisted). Default 0.
   */
  readonly startedMs?: number | undefined
}

/** A region heartbeat without its request header. */
export interface RegionHeartbeat {
  readonly region: Region
  readonly leader: Peer
  readonly pendingPeers: ReadonlyArray<Peer>
  /** Bytes. */
  readonly approximateSize: number
}

export interface HeartbeatResult {
  /** The step the leader should take next, if an operator is running for the region. */
  readonly response: RegionHeartbeatResponse | undefined
  /** A report no correct store can produce (see `confChangeAnomaly`), for the log. */
  readonly anomaly: string | undefined
}

export class SchedulerCore {
  /** Writes not yet applied to the engine; the service drains it after every call. */
  readonly log = new WriteLog()
  private cluster: RaftCluster | undefined
  private readonly ids: IdAllocator
  private readonly oracle: TimestampOracle
  private gcSafePoint: bigint
  readonly operators = new OperatorController()
  readonly config: ScheduleConfig
  private readonly startedMs: number

  constructor(
    readonly clusterId: number,
    state: PersistedState,
    options: CoreOptions = {}
  ) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))
    this.config = { ...defaultScheduleConfig, ...defined }
    this.startedMs = options.startedMs ?? 0
    this.ids = new IdAllocator(state.allocIdEnd, this.log)
    this.oracle = new TimestampOracle(state.tsoCeilingMs, this.log)
    this.gcSafePoint = state.gcSafePoint
    if (state.cluster !== undefined) {
      this.cluster = RaftCluster.restore(state.cluster, state.stores, state.regions, this.log)
    }
  }

  /** Rejects requests meant for another cluster; 0 means "any" (tools that have not asked yet). */
  checkHeader(header: RequestHeader): Result<void> {
    return header.clusterId === 0 || header.clusterId === this.clusterId
      ? ok(undefined)
      : fail("UNKNOWN", `mismatch cluster id: request ${header.clusterId}, scheduler ${this.clusterId}`)
  }

  // --- cluster-independent ---

  isBootstrapped(): boolean {
    return this.cluster !== undefined
  }

  /**
   * Creates the cluster with its first store and first region (TinyKV sends only the store and lets
   * the region arrive by heartbeat; taking it here makes the first region routable at once).
   */
  bootstrap(store: Store, region: Region): Result<void> {
    if (this.cluster !== undefined) return fail("ALREADY_BOOTSTRAPPED", `cluster ${this.clusterId} is bootstrapped`)
    if (store.id === 0) return fail("UNKNOWN", "bootstrap: store id 0 is invalid")
    if (store.state === "Tombstone") return fail("STORE_TOMBSTONE", "bootstrap: the store is a tombstone")
    if (region.id === 0) return fail("UNKNOWN", "bootstrap: region id 0 is invalid")
    if (!region.peers.some((p) => p.storeId === store.id)) {
      return fail("UNKNOWN", `bootstrap: region ${region.id} has no peer on store ${store.id}`)
    }
    if (region.peers.some((p) => p.id === 0)) return fail("UNKNOWN", "bootstrap: peer id 0 is invalid")
    const meta: Cluster = { id: this.clusterId, maxPeerCount: this.config.maxReplicas }
    const cluster = new RaftCluster(meta, this.log)
    const put = cluster.putStore(store)
    if (put._tag === "Left") return put
    this.log.put(KEY_CLUSTER, clusterCodec.encode(meta), true)
    cluster.insert(regionInfo(region), true)
    this.ids.ensureAbove(Math.max(store.id, region.id, ...region.peers.map((p) => p.id)))
    this.cluster = cluster
    return ok(undefined)
  }

  allocId(): number {
    return this.ids.alloc()
  }

  tso(count: number, nowMs: number): Result<Timestamp> {
    return this.oracle.next(count, nowMs)
  }

  getGcSafePoint(): bigint {
    return this.gcSafePoint
  }

  /** Moves the GC safe point forward only; returns the safe point now in force. */
  updateGcSafePoint(safePoint: bigint): bigint {
    if (safePoint > this.gcSafePoint) {
      this.gcSafePoint = safePoint
      this.log.put(KEY_GC_SAFE_POINT, encodeU64(safePoint), true)
    }
    return this.gcSafePoint
  }

  // --- cluster-dependent ---

  private withCluster<A>(f: (c: RaftCluster) => Result<A>): Result<A> {
    return this.cluster === undefined ? notBootstrapped() : f(this.cluster)
  }

  clusterConfig(): Result<Cluster> {
    return this.withCluster((c) => ok(c.meta))
  }

  putClusterConfig(meta: Cluster): Result<void> {
    return this.withCluster((c) => {
      if (meta.id !== this.clusterId) return fail("UNKNOWN", `cluster id ${meta.id} is not ${this.clusterId}`)
      c.meta = meta
      this.log.put(KEY_CLUSTER, clusterCodec.encode(meta), true)
      return ok(undefined)
    })
  }

  putStore(store: Store): Result<void> {
    return this.withCluster((c) => c.putStore(store))
  }

  setStoreState(id: StoreId, state: StoreState): Result<void> {
    return this.withCluster((c) => c.setStoreState(id, state))
  }

  getStore(id: StoreId): Result<StoreInfo> {
    return this.withCluster((c) => c.getStore(id))
  }

  getAllStores(excludeTombstones: boolean): Result<ReadonlyArray<StoreInfo>> {
    return this.withCluster((c) =>
      ok(excludeTombstones ? c.stores().filter((s) => s.store.state !== "Tombstone") : c.stores())
    )
  }

  /** Records the store's stats; answers with the regions it leads that have an operator waiting. */
  storeHeartbeat(stats: StoreStats, nowMs: number): Result<StoreHeartbeatResponse> {
    return this.withCluster((c) =>
      Either.map(c.storeHeartbeat(stats, nowMs), () => {
        const regionsToReport: Array<RegionId> = []
        for (const regionId of this.operators.operators.keys()) {
          if (c.regions.get(regionId as RegionId)?.leader?.storeId === stats.storeId) {
            regionsToReport.push(regionId as RegionId)
          }
        }
        return { regionsToReport }
      })
    )
  }

  /** Applies the heartbeat, then answers with the next step of the region's operator, if any. */
  regionHeartbeat(hb: RegionHeartbeat, nowMs: number): Result<HeartbeatResult> {
    return this.withCluster((c) => {
      if (c.store(hb.leader.storeId) === undefined) {
        return fail("STORE_NOT_FOUND", `region ${hb.region.id}: leader store ${hb.leader.storeId} not found`)
      }
      const info = regionInfo(hb.region, hb.leader, hb.pendingPeers, hb.approximateSize)
      return Either.map(c.processRegionHeartbeat(info), (outcome) => ({
        response: this.operators.dispatch(info, nowMs),
        anomaly: outcome.anomaly
      }))
    })
  }

  getRegion(key: Uint8Array): Result<RegionInfo | undefined> {
    return this.withCluster((c) => ok(c.regions.search(key)))
  }

  getPrevRegion(key: Uint8Array): Result<RegionInfo | undefined> {
    return this.withCluster((c) => ok(c.regions.searchPrev(key)))
  }

  getRegionById(id: RegionId): Result<RegionInfo | undefined> {
    return this.withCluster((c) => ok(c.regions.get(id)))
  }

  /** Regions intersecting `[start, end)` (empty end: to the end), at most `limit` (≤ 0: all). */
  scanRegions(start: Uint8Array, end: Uint8Array, limit: number): Result<ReadonlyArray<RegionInfo>> {
    return this.withCluster((c) => ok(c.regions.scan(start, end, limit)))
  }

  /** A new region id and one new peer id per peer of `region`, in the order of `region.peers`. */
  askSplit(region: Region): Result<{ newRegionId: RegionId; newPeerIds: ReadonlyArray<PeerId> }> {
    return this.withCluster((c) => {
      return Either.map(c.validateSplitRequest(region), () => {
        const newRegionId = this.ids.alloc() as RegionId
        const newPeerIds = region.peers.map(() => this.ids.alloc() as PeerId)
        return { newRegionId, newPeerIds }
      })
    })
  }

  /** Checks a finished split's two halves; the region tree itself follows their heartbeats (as in TinyKV). */
  reportSplit(left: Region, right: Region): Result<void> {
    return this.withCluster(() => checkReportSplit(left, right))
  }

  // --- operators ---

  private plan(
    regionId: RegionId,
    nowMs: number,
    kind: Operator["kind"],
    f: (c: RaftCluster, info: RegionInfo) => Result<AdminPlan>
  ): Result<OperatorInfo> {
    return this.withCluster((c) => {
      const info = c.regions.get(regionId)
      if (info === undefined) return fail("REGION_NOT_FOUND", `region ${regionId} not found`)
      return Either.map(f(c, info), ({ desc, steps }) => {
        this.operators.add(regionId, makeOperator(kind, desc, steps, info.region.regionEpoch, nowMs))
        return this.operators.get(regionId)!
      })
    })
  }

  /** Queues an admin operator for a region (replacing any running one); its steps go out with the region's heartbeats. */
  addOperator(regionId: RegionId, desc: string, steps: ReadonlyArray<OperatorStep>, nowMs: number): Result<void> {
    if (steps.length === 0) return fail("UNKNOWN", "an operator needs at least one step")
    return Either.map(
      this.plan(regionId, nowMs, "admin", () => ok({ desc, steps })),
      () => undefined
    )
  }

  /** `tinykv ctl operator add KIND REGION STORE`. */
  addAdminOperator(regionId: RegionId, kind: AdminOperatorKind, storeId: StoreId, nowMs: number): Result<OperatorInfo> {
    return this.plan(regionId, nowMs, "admin", (c, info) =>
      planAdminOperator(info, kind, c.store(storeId), storeId, () => this.ids.alloc() as PeerId)
    )
  }

  /** Records a split request; it goes to the region's leader as a split step (executing it is the store's part). */
  splitRegion(regionId: RegionId, key: Uint8Array | undefined, nowMs: number): Result<OperatorInfo> {
    return this.plan(regionId, nowMs, "split", (_, info) => planSplit(info, key))
  }

  /** The running or last finished operator of a region. */
  getOperator(regionId: RegionId): Result<OperatorInfo> {
    return this.withCluster(() => {
      const op = this.operators.get(regionId)
      return op === undefined ? fail("REGION_NOT_FOUND", `no operator for region ${regionId}`) : ok(op)
    })
  }

  listOperators(): Result<ReadonlyArray<OperatorInfo>> {
    return this.withCluster(() => ok(this.operators.list()))
  }

  /** What the checkers see now (tests inspect it). */
  view(nowMs: number): Result<ClusterView> {
    return this.withCluster((c) =>
      ok(buildView(this.config, c.stores(), c.regions.all(), this.operators.operators, nowMs, this.startedMs))
    )
  }

  /** One coordinator pass: expire stale operators, then run the checkers; returns what it started. */
  schedule(nowMs: number): Result<ReadonlyArray<Proposal>> {
    return this.withCluster((c) => {
      const before = Either.getOrThrow(this.view(nowMs))
      this.operators.expire(
        nowMs,
        (id) => c.regions.get(id as RegionId) !== undefined,
        (id) => holdsLiveReplica(before.stores.get(id)?.status)
      )
      for (const id of drainedStores(c.stores(), this.operators.operators.values())) c.setStoreState(id, "Tombstone")
      const view = () => Either.getOrThrow(this.view(nowMs))
      const accept = (p: Proposal) => {
        const info = c.regions.get(p.regionId as RegionId)!
        this.operators.add(p.regionId, makeOperator(p.kind, p.desc, p.steps, info.region.regionEpoch, nowMs))
      }
      return ok(schedulePass(view, accept, () => this.ids.alloc() as PeerId))
    })
  }

  /** Every store with its status and counts, for tools. */
  storeDetails(nowMs: number, excludeTombstones: boolean): Result<ReadonlyArray<StoreDetail>> {
    return Either.map(this.getAllStores(excludeTombstones), (stores) =>
      stores.map((s) => toStoreDetail(s, storeStatus(s, nowMs, this.startedMs, this.config)))
    )
  }
}
