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
  regionId: RegionId
}) {
  override get message(): string {
    return `the store does not hold region ${this.regionId}`
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

/** The proposal was superseded (term changed before it committed); retry it. */
export class StaleCommand extends Schema.TaggedError<StaleCommand>()("StaleCommand", {}) {
  override get message(): string {
    return "the command was superseded by a leader change before it committed; retry it"
  }
}

export class ServerIsBusy extends Schema.TaggedError<ServerIsBusy>()("ServerIsBusy", {
  reason: Schema.String
}) {
  override get message(): string {
    return `the store is busy: ${this.reason}`
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
