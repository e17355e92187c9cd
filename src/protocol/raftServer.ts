/** raft_serverpb: store-to-store messages and the raftstore's persisted state (TinyKV `proto/raft_serverpb.proto`). */
import { Schema } from "effect"
import { Bytes, RegionId, StoreId, U64 } from "./ids.js"
import { HardState, Message } from "./eraftpb.js"
import { Peer, Region, RegionEpoch } from "./metapb.js"

/** A Raft message addressed to one peer of one region on another store. */
export const RaftMessage = Schema.Struct({
  regionId: RegionId,
  fromPeer: Peer,
  toPeer: Peer,
  message: Message,
  regionEpoch: RegionEpoch,
  /** "You (toPeer) were removed: destroy yourself." */
  isTombstone: Schema.Boolean,
  /** Filled only for initial messages so the receiving store can check range overlap before creating a peer. */
  startKey: Schema.optional(Bytes),
  endKey: Schema.optional(Bytes)
})
export type RaftMessage = typeof RaftMessage.Type

/** Last persisted log entry and hard state; stored under `RaftStateKey(region)`. */
export const RaftLocalState = Schema.Struct({ hardState: HardState, lastIndex: U64, lastTerm: U64 })
export type RaftLocalState = typeof RaftLocalState.Type

export const RaftTruncatedState = Schema.Struct({ index: U64, term: U64 })
export type RaftTruncatedState = typeof RaftTruncatedState.Type

/** Applied index and the last compacted entry; stored under `ApplyStateKey(region)`. */
export const RaftApplyState = Schema.Struct({ appliedIndex: U64, truncatedState: RaftTruncatedState })
export type RaftApplyState = typeof RaftApplyState.Type

export const PeerState = Schema.Literal("Normal", "Tombstone")
export type PeerState = typeof PeerState.Type

export const RegionLocalState = Schema.Struct({ state: PeerState, region: Region })
export type RegionLocalState = typeof RegionLocalState.Type

export const StoreIdent = Schema.Struct({ clusterId: U64, storeId: StoreId })
export type StoreIdent = typeof StoreIdent.Type

export const KeyValue = Schema.Struct({ key: Bytes, value: Bytes })
export type KeyValue = typeof KeyValue.Type

export const SnapshotCFFile = Schema.Struct({ cf: Schema.String, size: U64, checksum: U64 })
export const SnapshotMeta = Schema.Struct({ cfFiles: Schema.Array(SnapshotCFFile) })

/** `eraftpb.Snapshot.data`: the region and, per column family, its key-value pairs. */
export const RaftSnapshotData = Schema.Struct({
  region: Region,
  fileSize: U64,
  data: Schema.Array(Schema.Struct({ cf: Schema.String, key: Bytes, value: Bytes })),
  meta: Schema.optional(SnapshotMeta)
})
export type RaftSnapshotData = typeof RaftSnapshotData.Type

/** One piece of a snapshot transfer: the first chunk carries the `message`, every chunk some `data`. */
export const SnapshotChunk = Schema.Struct({ message: Schema.optional(RaftMessage), data: Bytes })
export type SnapshotChunk = typeof SnapshotChunk.Type

export const regionIdOf = (m: RaftMessage): RegionId => m.regionId
export const storeOf = (m: RaftMessage): StoreId => m.toPeer.storeId
