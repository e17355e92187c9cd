/**
 * raft_cmdpb: the commands a region's Raft log carries (TinyKV `proto/raft_cmdpb.proto`).
 *
 * Requests and responses are tagged unions instead of protobuf's "cmd_type + one set field", so
 * the compiler checks that every kind is handled.
 */
import { Schema } from "effect"
import { Bytes, PeerId, RegionId, U64 } from "./ids.js"
import { ConfChangeType } from "./eraftpb.js"
import { DiskFull, RegionError } from "./errorpb.js"
import { KeySpace } from "./keyspace.js"
import { Peer, Region, RegionEpoch } from "./metapb.js"

/**
 * Data requests name a key space (`keyspace.ts`) and carry the key local to it; the raftstore turns it
 * into the engine key. An absent space is the raw one.
 */
const space = Schema.optional(KeySpace)
export const GetRequest = Schema.TaggedStruct("Get", { cf: Schema.String, key: Bytes, space })
export const PutRequest = Schema.TaggedStruct("Put", { cf: Schema.String, key: Bytes, value: Bytes, space })
export const DeleteRequest = Schema.TaggedStruct("Delete", { cf: Schema.String, key: Bytes, space })
/** Asks for a consistent snapshot of the region's data taken after every earlier entry applied. */
export const SnapRequest = Schema.TaggedStruct("Snap", {})
export const Request = Schema.Union(GetRequest, PutRequest, DeleteRequest, SnapRequest)
export type Request = typeof Request.Type

export const GetResponse = Schema.TaggedStruct("Get", { value: Schema.optional(Bytes) })
export const PutResponse = Schema.TaggedStruct("Put", {})
export const DeleteResponse = Schema.TaggedStruct("Delete", {})
export const SnapResponse = Schema.TaggedStruct("Snap", { region: Region })
export const Response = Schema.Union(GetResponse, PutResponse, DeleteResponse, SnapResponse)
export type Response = typeof Response.Type

export const ChangePeerRequest = Schema.TaggedStruct("ChangePeer", { changeType: ConfChangeType, peer: Peer })
export const CompactLogRequest = Schema.TaggedStruct("CompactLog", { compactIndex: U64, compactTerm: U64 })
export const TransferLeaderRequest = Schema.TaggedStruct("TransferLeader", { peer: Peer })
export const SplitRequest = Schema.TaggedStruct("Split", {
  splitKey: Bytes,
  newRegionId: RegionId,
  newPeerIds: Schema.Array(PeerId)
})
export const AdminRequest = Schema.Union(ChangePeerRequest, CompactLogRequest, TransferLeaderRequest, SplitRequest)
export type AdminRequest = typeof AdminRequest.Type

export const ChangePeerResponse = Schema.TaggedStruct("ChangePeer", { region: Region })
export const CompactLogResponse = Schema.TaggedStruct("CompactLog", {})
export const TransferLeaderResponse = Schema.TaggedStruct("TransferLeader", {})
export const SplitResponse = Schema.TaggedStruct("Split", { regions: Schema.Array(Region) })
export const AdminResponse = Schema.Union(ChangePeerResponse, CompactLogResponse, TransferLeaderResponse, SplitResponse)
export type AdminResponse = typeof AdminResponse.Type

export const RaftRequestHeader = Schema.Struct({
  regionId: RegionId,
  peer: Peer,
  regionEpoch: RegionEpoch,
  term: U64
})
export type RaftRequestHeader = typeof RaftRequestHeader.Type

export const RaftResponseHeader = Schema.Struct({
  /** A region error, or `DiskFull`: the store refused a write it has no room for. */
  error: Schema.optional(Schema.Union(RegionError, DiskFull)),
  uuid: Schema.optional(Bytes),
  currentTerm: U64
})
export type RaftResponseHeader = typeof RaftResponseHeader.Type

/** Either data `requests` or one `adminRequest`, never both. */
export const RaftCmdRequest = Schema.Struct({
  header: RaftRequestHeader,
  requests: Schema.Array(Request),
  adminRequest: Schema.optional(AdminRequest)
})
export type RaftCmdRequest = typeof RaftCmdRequest.Type

export const RaftCmdResponse = Schema.Struct({
  header: RaftResponseHeader,
  responses: Schema.Array(Response),
  adminResponse: Schema.optional(AdminResponse)
})
export type RaftCmdResponse = typeof RaftCmdResponse.Type
