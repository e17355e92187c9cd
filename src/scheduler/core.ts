/**
 * The scheduler's whole state and the semantics of every RPC (TinyKV `scheduler/server/server.go` +
 * `grpc_service.go`, §2.11), as a plain synchronous object: the Effect service around it
 * (`service.ts`) only serializes calls, supplies the clock and persists `log`'s writes.
 *
 * Works before bootstrap: AllocId (a store allocates its own ids before it bootstraps), Tso,
 * IsBootstrapped, Bootstrap, GC safe point. Everything about stores and regions needs the cluster
 * and fails with NOT_BOOTSTRAPPED until then.
 */
import { Either } from "effect"
import type { PeerId, RegionId, StoreId, Timestamp } from "../protocol/ids.js"
import type { Cluster, Peer, Region, Store, StoreState } from "../protocol/metapb.js"
import type { RegionHeartbeatResponse, RequestHeader, StoreStats } from "../protocol/scheduler.js"
import { checkReportSplit, RaftCluster } from "./cluster.js"
import { fail, notBootstrapped, ok, type Result } from "./errors.js"
import { IdAllocator } from "./idAllocator.js"
import { dispatch, type Operator, OPERATOR_TIMEOUT_MS, type OperatorStatus, type OperatorStep } from "./operator.js"
import { clusterCodec, encodeU64, KEY_CLUSTER, KEY_GC_SAFE_POINT, type PersistedState, WriteLog } from "./persist.js"
import { type RegionInfo, regionInfo } from "./regionInfo.js"
import type { StoreInfo } from "./stores.js"
import { TimestampOracle } from "./tso.js"

export interface CoreOptions {
  /** Replicas per region recorded in the cluster meta at bootstrap (TinyKV `MaxReplicas`, default 3). */
  readonly maxReplicas?: number | undefined
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
  private readonly operators = new Map<number, Operator>()
  private readonly lastOperator = new Map<number, { readonly desc: string; readonly status: OperatorStatus }>()
  private readonly maxReplicas: number

  constructor(
    readonly clusterId: number,
    state: PersistedState,
    options: CoreOptions = {}
  ) {
    this.maxReplicas = options.maxReplicas ?? 3
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
    const meta: Cluster = { id: this.clusterId, maxPeerCount: this.maxReplicas }
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

  storeHeartbeat(stats: StoreStats, nowMs: number): Result<void> {
    return this.withCluster((c) => c.storeHeartbeat(stats, nowMs))
  }

  /** Applies the heartbeat, then answers with the next step of the region's operator, if any. */
  regionHeartbeat(hb: RegionHeartbeat, nowMs: number): Result<HeartbeatResult> {
    return this.withCluster((c) => {
      if (c.store(hb.leader.storeId) === undefined) {
        return fail("STORE_NOT_FOUND", `region ${hb.region.id}: leader store ${hb.leader.storeId} not found`)
      }
      const info = regionInfo(hb.region, hb.leader, hb.pendingPeers, hb.approximateSize)
      return Either.map(c.processRegionHeartbeat(info), (outcome) => ({
        response: this.dispatchOperator(info, nowMs),
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

  /** Queues an operator for a region (replacing any running one); its steps go out with the region's heartbeats. */
  addOperator(regionId: RegionId, desc: string, steps: ReadonlyArray<OperatorStep>, nowMs: number): Result<void> {
    return this.withCluster((c) => {
      if (c.regions.get(regionId) === undefined) return fail("REGION_NOT_FOUND", `region ${regionId} not found`)
      if (steps.length === 0) return fail("UNKNOWN", "an operator needs at least one step")
      this.operators.set(regionId, { desc, steps, next: 0, deadlineMs: nowMs + OPERATOR_TIMEOUT_MS })
      this.lastOperator.set(regionId, { desc, status: "RUNNING" })
      return ok(undefined)
    })
  }

  /** The running or last finished operator of a region. */
  getOperator(regionId: RegionId): Result<{ readonly desc: string; readonly status: OperatorStatus }> {
    return this.withCluster(() => {
      const last = this.lastOperator.get(regionId)
      return last === undefined ? fail("REGION_NOT_FOUND", `no operator for region ${regionId}`) : ok(last)
    })
  }

  private dispatchOperator(reported: RegionInfo, nowMs: number): RegionHeartbeatResponse | undefined {
    const id = reported.region.id
    const op = this.operators.get(id)
    if (op === undefined) return undefined
    const d = dispatch(op, reported, nowMs)
    if (d._tag === "Finished") {
      this.operators.delete(id)
      this.lastOperator.set(id, { desc: op.desc, status: d.status })
      return undefined
    }
    this.operators.set(id, d.operator)
    return d.response
  }
}
