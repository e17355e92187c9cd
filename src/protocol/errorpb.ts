/**
 * errorpb: region errors (TinyKV `proto/errorpb.proto`) and the other errors that cross the wire.
 *
 * Each is a `Schema.TaggedError`, so it survives encode → msgpack → decode as a typed, yieldable
 * error and clients can `Effect.catchTag("NotLeader", …)`. Region errors tell a client to refresh
 * its routing and retry; `InvalidArgument` tells it the request itself is wrong.
 */
import { Schema } from "effect"
import { showKey } from "./bytes.js"
import { Bytes, RegionId } from "./ids.js"
import { Peer, Region } from "./metapb.js"

/**
 * On an error that can answer a command after it entered the Raft log: `true` when it did. The command
 * may then still apply, or may have applied already, and the client cannot tell which: a write that is
 * not idempotent must not be sent again. Absent (the usual case): the store refused the command before
 * proposing it, or it is known never to apply (its log entry was replaced, or refused on apply).
 */
const outcomeUnknown = Schema.optional(Schema.Boolean)

/** The sentence an error with `outcomeUnknown` adds to its message. */
const unknownOutcome = (e: { readonly outcomeUnknown?: boolean | undefined }): string =>
  e.outcomeUnknown === true ? " (after the command was proposed: it may still apply)" : ""

/** The peer asked is not the region's leader; `leader` is the hint when one is known. */
export class NotLeader extends Schema.TaggedError<NotLeader>()("NotLeader", {
  regionId: RegionId,
  leader: Schema.optional(Peer)
}) {
  override get message(): string {
    const hint =
      this.leader === undefined ? "no leader known" : `leader: peer ${this.leader.id} on store ${this.leader.storeId}`
    return `the store asked is not the leader of region ${this.regionId} (${hint})`
  }
}

export class StoreNotMatch extends Schema.TaggedError<StoreNotMatch>()("StoreNotMatch", {
  requestStoreId: Schema.Number,
  actualStoreId: Schema.Number
}) {
  override get message(): string {
    return `the request was meant for store ${this.requestStoreId} but reached store ${this.actualStoreId}`
  }
}

export class RegionNotFound extends Schema.TaggedError<RegionNotFound>()("RegionNotFound", {
  regionId: RegionId,
  /** The peer was destroyed or failed while the command waited for its entry. */
  outcomeUnknown
}) {
  override get message(): string {
    return `the store does not hold region ${this.regionId}${unknownOutcome(this)}`
  }
}

export class KeyNotInRegion extends Schema.TaggedError<KeyNotInRegion>()("KeyNotInRegion", {
  key: Bytes,
  regionId: RegionId,
  startKey: Bytes,
  endKey: Bytes
}) {
  override get message(): string {
    return `key ${showKey(this.key)} is not in region ${this.regionId} [${showKey(this.startKey)}, ${showKey(this.endKey)})`
  }
}

/** The request's region epoch is stale; `currentRegions` is what the store has now. */
export class EpochNotMatch extends Schema.TaggedError<EpochNotMatch>()("EpochNotMatch", {
  currentRegions: Schema.Array(Region)
}) {
  override get message(): string {
    return `the region changed (split or membership change); the store now has regions ${this.currentRegions.map((r) => r.id).join(", ")}`
  }
}

/**
 * The command was refused for its term: superseded by a leader change before it committed (its log
 * entry was replaced), or named a read term too old to write in. With `outcomeUnknown`: the store lost
 * track of its entry (a snapshot from another leader covered it), which may or may not be the command.
 */
export class StaleCommand extends Schema.TaggedError<StaleCommand>()("StaleCommand", { outcomeUnknown }) {
  override get message(): string {
    return this.outcomeUnknown === true
      ? "the command's entry was covered by a snapshot from another leader: it may or may not have applied"
      : "the command was superseded by a leader change before it committed; retry it"
  }
}

export class ServerIsBusy extends Schema.TaggedError<ServerIsBusy>()("ServerIsBusy", {
  reason: Schema.String,
  /** The command was proposed and did not apply in time, or the raft worker failed while it waited. */
  outcomeUnknown
}) {
  override get message(): string {
    return `the store is busy: ${this.reason}${unknownOutcome(this)}`
  }
}

/** errorpb.Error: the errors that mean "this request went to the wrong place or time — route again". */
export const RegionError = Schema.Union(
  NotLeader,
  StoreNotMatch,
  RegionNotFound,
  KeyNotInRegion,
  EpochNotMatch,
  StaleCommand,
  ServerIsBusy
)
export type RegionError = typeof RegionError.Type

/** The request is malformed (empty key, unknown column family, …); retrying it cannot succeed. */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  message: Schema.String
}) {}

/** The store's engine failed; the request may or may not have taken effect only if it was a write. */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  message: Schema.String
}) {}

/**
 * The store's disk (or its engine's quota) is too full to take a write: the write was refused and did
 * not take effect. Reads still work; writes work again once space is freed, without a restart. Not a
 * region error: asking another peer cannot help while this store leads the region (see
 * docs/OPERATIONS.md "Disk full"). `storeId` is absent from a standalone store.
 */
export class DiskFull extends Schema.TaggedError<DiskFull>()("DiskFull", {
  storeId: Schema.optional(Schema.Number),
  reason: Schema.String
}) {
  override get message(): string {
    const where = this.storeId === undefined ? "the store" : `store ${this.storeId}`
    return `${where} is out of disk space (${this.reason}): writes are refused until space is freed; reads still work`
  }
}

/** Every error a raw KV request can fail with on the wire. */
export const KvError = Schema.Union(RegionError, InvalidArgument, StorageError, DiskFull)
export type KvError = typeof KvError.Type

export const isRegionError = (e: unknown): e is RegionError =>
  typeof e === "object" &&
  e !== null &&
  "_tag" in e &&
  [
    "NotLeader",
    "StoreNotMatch",
    "RegionNotFound",
    "KeyNotInRegion",
    "EpochNotMatch",
    "StaleCommand",
    "ServerIsBusy"
  ].includes((e as { _tag: string })._tag)
