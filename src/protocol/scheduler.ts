/**
 * schedulerpb: the scheduler's ("PD") messages (TinyKV `proto/schedulerpb.proto`).
 *
 * The response header's error becomes the typed `SchedulerError` in the RPC error channel; the
 * streaming RPCs of the Go service (Tso, RegionHeartbeat) are unary here: a region heartbeat's
 * answer (an operator for that region, if any) comes back as its response.
 */
import { Schema } from "effect"
import { Bytes, PeerId, RegionId, StoreId, Timestamp, U64 } from "./ids.js"
import { ConfChangeType } from "./eraftpb.js"
import { Cluster, Peer, Region, RegionEpoch, Store } from "./metapb.js"

export const ErrorType = Schema.Literal(
  "UNKNOWN",
  "NOT_BOOTSTRAPPED",
  "STORE_TOMBSTONE",
  "ALREADY_BOOTSTRAPPED",
  "INCOMPATIBLE_VERSION",
  "REGION_NOT_FOUND",
  "STALE_REGION",
  "STORE_NOT_FOUND"
)
export type ErrorType = typeof ErrorType.Type

export class SchedulerError extends Schema.TaggedError<SchedulerError>()("SchedulerError", {
  type: ErrorType,
  message: Schema.String
}) {}

export const RequestHeader = Schema.Struct({ clusterId: U64 })
export type RequestHeader = typeof RequestHeader.Type

/** `Timestamp{physical ms, logical}`; composed TS = `physical << 18 | logical`. */
export const TsoTimestamp = Schema.Struct({ physical: U64, logical: U64 })
export type TsoTimestamp = typeof TsoTimestamp.Type

export const TsoRequest = Schema.Struct({ header: RequestHeader, count: U64 })
export type TsoRequest = typeof TsoRequest.Type
/** The last of `count` consecutive timestamps; the first is `timestamp - count + 1`. */
export const TsoResponse = Schema.Struct({ count: U64, timestamp: Timestamp })
export type TsoResponse = typeof TsoResponse.Type

/** The cluster's first store and first region (TinyKV sends only the store; see `scheduler/core.ts`). */
export const BootstrapRequest = Schema.Struct({ header: RequestHeader, store: Store, region: Region })
export type BootstrapRequest = typeof BootstrapRequest.Type
export const IsBootstrappedResponse = Schema.Struct({ bootstrapped: Schema.Boolean })
export type IsBootstrappedResponse = typeof IsBootstrappedResponse.Type
export const AllocIdResponse = Schema.Struct({ id: U64 })
export type AllocIdResponse = typeof AllocIdResponse.Type

export const RecordPair = Schema.Struct({ key: Schema.String, value: U64 })
export const TimeInterval = Schema.Struct({ startTimestamp: U64, endTimestamp: U64 })

export const StoreStats = Schema.Struct({
  storeId: StoreId,
  capacity: U64,
  available: U64,
  regionCount: U64,
  sendingSnapCount: U64,
  receivingSnapCount: U64,
  startTime: U64,
  applyingSnapCount: U64,
  isBusy: Schema.Boolean,
  usedSize: U64,
  interval: Schema.optional(TimeInterval)
})
export type StoreStats = typeof StoreStats.Type

export const GetStoreRequest = Schema.Struct({ header: RequestHeader, storeId: StoreId })
export type GetStoreRequest = typeof GetStoreRequest.Type
export const GetStoreResponse = Schema.Struct({ store: Store, stats: Schema.optional(StoreStats) })
export type GetStoreResponse = typeof GetStoreResponse.Type
export const PutStoreRequest = Schema.Struct({ header: RequestHeader, store: Store })
export type PutStoreRequest = typeof PutStoreRequest.Type
export const GetAllStoresRequest = Schema.Struct({ header: RequestHeader, excludeTombstoneStores: Schema.Boolean })
export type GetAllStoresRequest = typeof GetAllStoresRequest.Type
/**
 * How the scheduler sees a store now: `Up`; `Disconnected` (no heartbeat for a while, may come
 * back: not a placement target); `Down` (silent longer than max-store-down-time: its replicas are
 * replaced); `Offline` (being drained by an admin); `Tombstone` (removed for good).
 */
export const StoreStatus = Schema.Literal("Up", "Disconnected", "Down", "Offline", "Tombstone")
export type StoreStatus = typeof StoreStatus.Type

/** A store with the scheduler's view of it: status, last stats, and counts from the region map. */
export const StoreDetail = Schema.Struct({
  store: Store,
  status: StoreStatus,
  stats: Schema.optional(StoreStats),
  /** Clock ms of the last store heartbeat; 0 when none since the scheduler started. */
  lastHeartbeatMs: U64,
  regionCount: U64,
  leaderCount: U64,
  pendingPeerCount: U64,
  /** MiB. */
  regionSize: U64,
  /** MiB. */
  leaderSize: U64
})
export type StoreDetail = typeof StoreDetail.Type

/** `details` has one entry per store of `stores`, same order (tools read it; stores only need `stores`). */
export const GetAllStoresResponse = Schema.Struct({
  stores: Schema.Array(Store),
  details: Schema.optionalWith(Schema.Array(StoreDetail), { default: () => [] })
})
export type GetAllStoresResponse = typeof GetAllStoresResponse.Type
export const StoreHeartbeatRequest = Schema.Struct({ header: RequestHeader, stats: StoreStats })
export type StoreHeartbeatRequest = typeof StoreHeartbeatRequest.Type

/**
 * The scheduler's answer to a store heartbeat: the regions led from that store that have an operator waiting,
 * which the store reports at once (their answers carry the steps). A sleeping leader reports only at its
 * check-ins otherwise, so this is how an operator reaches a quiet region within a store heartbeat.
 */
export const StoreHeartbeatResponse = Schema.Struct({
  regionsToReport: Schema.optionalWith(Schema.Array(RegionId), { default: () => [] })
})
export type StoreHeartbeatResponse = typeof StoreHeartbeatResponse.Type

export const GetRegionRequest = Schema.Struct({ header: RequestHeader, regionKey: Bytes })
export type GetRegionRequest = typeof GetRegionRequest.Type
export const GetRegionByIdRequest = Schema.Struct({ header: RequestHeader, regionId: RegionId })
export type GetRegionByIdRequest = typeof GetRegionByIdRequest.Type
/** `region` absent when no region is known for the key or id; `slaves` are the peers other than the leader. */
export const GetRegionResponse = Schema.Struct({
  region: Schema.optional(Region),
  leader: Schema.optional(Peer),
  slaves: Schema.Array(Peer)
})
export type GetRegionResponse = typeof GetRegionResponse.Type

export const ScanRegionsRequest = Schema.Struct({
  header: RequestHeader,
  startKey: Bytes,
  endKey: Bytes,
  limit: U64
})
export type ScanRegionsRequest = typeof ScanRegionsRequest.Type
/** A region and its leader, when one has been reported. */
export const RegionWithLeader = Schema.Struct({ region: Region, leader: Schema.optional(Peer) })
export type RegionWithLeader = typeof RegionWithLeader.Type
/** TinyKV's parallel `regions`/`leaders` arrays, as one array of pairs (a leader may be unknown). */
export const ScanRegionsResponse = Schema.Struct({ regions: Schema.Array(RegionWithLeader) })
export type ScanRegionsResponse = typeof ScanRegionsResponse.Type

export const RegionHeartbeatRequest = Schema.Struct({
  header: RequestHeader,
  region: Region,
  leader: Peer,
  pendingPeers: Schema.Array(Peer),
  approximateSize: U64
})
export type RegionHeartbeatRequest = typeof RegionHeartbeatRequest.Type

export const ChangePeer = Schema.Struct({ peer: Peer, changeType: ConfChangeType })
export const TransferLeader = Schema.Struct({ peer: Peer })

/** Split the region at `keys` (empty: at its middle, which the store picks), as TinyKV's `SplitRegion`. */
export const SplitRegionStep = Schema.Struct({ keys: Schema.Array(Bytes) })

/** At most one of `changePeer`, `transferLeader` and `splitRegion`: the operator step the leader should take next. */
export const RegionHeartbeatResponse = Schema.Struct({
  changePeer: Schema.optional(ChangePeer),
  transferLeader: Schema.optional(TransferLeader),
  splitRegion: Schema.optional(SplitRegionStep),
  regionId: RegionId,
  regionEpoch: RegionEpoch,
  targetPeer: Peer
})
export type RegionHeartbeatResponse = typeof RegionHeartbeatResponse.Type

export const AskSplitRequest = Schema.Struct({ header: RequestHeader, region: Region })
export type AskSplitRequest = typeof AskSplitRequest.Type
/** One new peer id per existing peer, in the order of `region.peers`. */
export const AskSplitResponse = Schema.Struct({ newRegionId: RegionId, newPeerIds: Schema.Array(PeerId) })
export type AskSplitResponse = typeof AskSplitResponse.Type
export const ReportSplitRequest = Schema.Struct({ header: RequestHeader, left: Region, right: Region })
export type ReportSplitRequest = typeof ReportSplitRequest.Type

export const GetClusterConfigResponse = Schema.Struct({ cluster: Cluster })
export type GetClusterConfigResponse = typeof GetClusterConfigResponse.Type
export const PutClusterConfigRequest = Schema.Struct({ header: RequestHeader, cluster: Cluster })
export type PutClusterConfigRequest = typeof PutClusterConfigRequest.Type

export const Member = Schema.Struct({
  name: Schema.String,
  memberId: U64,
  peerUrls: Schema.Array(Schema.String),
  clientUrls: Schema.Array(Schema.String)
})
export const GetMembersResponse = Schema.Struct({
  header: RequestHeader,
  members: Schema.Array(Member),
  leader: Member
})
export type GetMembersResponse = typeof GetMembersResponse.Type

export const GcSafePointResponse = Schema.Struct({ safePoint: Timestamp })
export type GcSafePointResponse = typeof GcSafePointResponse.Type
/** The safe point only moves forward; the response carries the one in force. */
export const UpdateGcSafePointRequest = Schema.Struct({ header: RequestHeader, safePoint: Timestamp })
export type UpdateGcSafePointRequest = typeof UpdateGcSafePointRequest.Type

export const OperatorStatus = Schema.Literal("SUCCESS", "TIMEOUT", "CANCEL", "REPLACE", "RUNNING")
export const GetOperatorRequest = Schema.Struct({ header: RequestHeader, regionId: RegionId })
export type GetOperatorRequest = typeof GetOperatorRequest.Type
export const GetOperatorResponse = Schema.Struct({
  regionId: RegionId,
  desc: Schema.String,
  status: OperatorStatus,
  kind: Schema.String
})
export type GetOperatorResponse = typeof GetOperatorResponse.Type

/** Where an operator came from: an admin, or one of the coordinator's checkers. */
export const OperatorKind = Schema.Literal("admin", "replica", "balance-region", "balance-leader", "split")
export type OperatorKind = typeof OperatorKind.Type

export const OperatorStepInfo = Schema.Union(
  Schema.TaggedStruct("AddPeer", { toStore: StoreId, peerId: PeerId }),
  Schema.TaggedStruct("RemovePeer", { fromStore: StoreId }),
  Schema.TaggedStruct("TransferLeader", { fromStore: StoreId, toStore: StoreId }),
  Schema.TaggedStruct("SplitRegion", { keys: Schema.Array(Bytes) })
)
export type OperatorStepInfo = typeof OperatorStepInfo.Type

/** A running or finished operator, for tools. */
export const OperatorInfo = Schema.Struct({
  regionId: RegionId,
  kind: OperatorKind,
  desc: Schema.String,
  status: OperatorStatus,
  steps: Schema.Array(OperatorStepInfo),
  /** Index of the step being waited for (`steps.length` when finished). */
  currentStep: U64,
  /** Clock ms. */
  createdMs: U64
})
export type OperatorInfo = typeof OperatorInfo.Type

/** What an admin may ask of one region (`tinykv ctl operator add …`). */
export const AdminOperatorKind = Schema.Literal("transfer-leader", "add-peer", "remove-peer")
export type AdminOperatorKind = typeof AdminOperatorKind.Type
export const AddOperatorRequest = Schema.Struct({
  header: RequestHeader,
  regionId: RegionId,
  kind: AdminOperatorKind,
  storeId: StoreId
})
export type AddOperatorRequest = typeof AddOperatorRequest.Type

/** Running operators, then the last finished one of each region that has no running one. */
export const ListOperatorsResponse = Schema.Struct({ operators: Schema.Array(OperatorInfo) })
export type ListOperatorsResponse = typeof ListOperatorsResponse.Type

/** Asks the region's leader to split it, at `splitKey` or (absent) where the store sees fit. */
export const SplitRegionRequest = Schema.Struct({
  header: RequestHeader,
  regionId: RegionId,
  splitKey: Schema.optional(Bytes)
})
export type SplitRegionRequest = typeof SplitRegionRequest.Type

/** A region with everything its last heartbeat said. */
export const RegionDetail = Schema.Struct({
  region: Region,
  leader: Schema.optional(Peer),
  pendingPeers: Schema.Array(Peer),
  /** MiB, at least 1. */
  approximateSize: U64
})
export type RegionDetail = typeof RegionDetail.Type
export const ScanRegionDetailsResponse = Schema.Struct({ regions: Schema.Array(RegionDetail) })
export type ScanRegionDetailsResponse = typeof ScanRegionDetailsResponse.Type

/** Admin: Offline drains a store (its replicas move off, then it becomes a Tombstone); Up undoes it. */
export const SetStoreStateRequest = Schema.Struct({
  header: RequestHeader,
  storeId: StoreId,
  state: Schema.Literal("Up", "Offline", "Tombstone")
})
export type SetStoreStateRequest = typeof SetStoreStateRequest.Type
