/**
 * eraftpb: the Raft core's messages and entries (TinyKV `proto/eraftpb.proto`).
 *
 * Plain data (`Schema.Struct`), so the synchronous Raft core can build and read them as ordinary
 * objects with no Effect at runtime; the Schemas exist for the wire and for property tests.
 * Enums are string literals: readable in logs and golden test output, checked by the compiler.
 */
import { Schema } from "effect"
import { Bytes, U64 } from "./ids.js"

export const EntryType = Schema.Literal("EntryNormal", "EntryConfChange")
export type EntryType = typeof EntryType.Type

export const Entry = Schema.Struct({
  entryType: EntryType,
  term: U64,
  index: U64,
  data: Bytes
})
export type Entry = typeof Entry.Type

export const ConfState = Schema.Struct({ nodes: Schema.Array(U64) })
export type ConfState = typeof ConfState.Type

export const SnapshotMetadata = Schema.Struct({ confState: ConfState, index: U64, term: U64 })
export type SnapshotMetadata = typeof SnapshotMetadata.Type

export const Snapshot = Schema.Struct({ data: Bytes, metadata: SnapshotMetadata })
export type Snapshot = typeof Snapshot.Type

export const MessageType = Schema.Literal(
  "MsgHup",
  "MsgBeat",
  "MsgPropose",
  "MsgAppend",
  "MsgAppendResponse",
  "MsgRequestVote",
  "MsgRequestVoteResponse",
  "MsgSnapshot",
  "MsgHeartbeat",
  "MsgHeartbeatResponse",
  "MsgTransferLeader",
  "MsgTimeoutNow",
  /** A pre-election poll (Raft thesis §9.6): carries the term the sender would campaign at; changes no state. */
  "MsgPreVote",
  "MsgPreVoteResponse",
  /**
   * ReadIndex (Raft thesis §6.4): a request to learn an index a linearizable read may be served at, carrying the
   * requester's `context`; a follower forwards it to the leader. Term-less, like a proposal.
   */
  "MsgReadIndex",
  /** The leader's answer to a forwarded MsgReadIndex: `index` is the read index, `context` the request's. */
  "MsgReadIndexResp"
)
export type MessageType = typeof MessageType.Type

export const Message = Schema.Struct({
  msgType: MessageType,
  to: U64,
  from: U64,
  term: U64,
  /** Term of the entry at `index` (MsgAppend: the entry before `entries`; MsgRequestVote: candidate's last). */
  logTerm: U64,
  index: U64,
  entries: Schema.Array(Entry),
  commit: U64,
  snapshot: Schema.optional(Snapshot),
  reject: Schema.Boolean,
  /**
   * On MsgRequestVote: the campaign was started by a leadership transfer (MsgTimeoutNow), so voters grant it
   * even while they still hear from the current leader (etcd's `campaignTransfer` context).
   */
  transfer: Schema.optional(Schema.Literal(true)),
  /**
   * ReadIndex: the request's context on MsgReadIndex / MsgReadIndexResp; on MsgHeartbeat the context of the
   * newest pending read, echoed back in the MsgHeartbeatResponse (etcd's `Context`).
   */
  context: Schema.optional(Bytes)
})
export type Message = typeof Message.Type

export const HardState = Schema.Struct({ term: U64, vote: U64, commit: U64 })
export type HardState = typeof HardState.Type

export const ConfChangeType = Schema.Literal("AddNode", "RemoveNode")
export type ConfChangeType = typeof ConfChangeType.Type

export const ConfChange = Schema.Struct({
  changeType: ConfChangeType,
  nodeId: U64,
  /** Free bytes; the raftstore puts the encoded admin `RaftCmdRequest` here. */
  context: Bytes
})
export type ConfChange = typeof ConfChange.Type
