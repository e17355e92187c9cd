/**
 * kvrpcpb: the client-facing requests and responses (TinyKV `proto/kvrpcpb.proto`).
 *
 * Region errors travel in the RPC's error channel (see `rpcs.ts`), so responses here carry only
 * what a successful call returns. Transactional key errors (`KeyError`) stay in the response body,
 * as in TinyKV: a prewrite reports one per failing key and the client decides what to do per key.
 */
import { Schema } from "effect"
import { Bytes, RegionId, Timestamp, U64 } from "./ids.js"
import { Peer, RegionEpoch } from "./metapb.js"

/** Where the client believes the key lives; optional for a standalone store. */
export const Context = Schema.Struct({
  regionId: RegionId,
  regionEpoch: RegionEpoch,
  peer: Peer,
  term: Schema.optional(U64)
})
export type Context = typeof Context.Type

export const CfName = Schema.String
export const Key = Bytes

// --- Raw KV ---

export const RawGetRequest = Schema.Struct({ context: Schema.optional(Context), key: Key, cf: CfName })
export type RawGetRequest = typeof RawGetRequest.Type
export const RawGetResponse = Schema.Struct({ value: Schema.optional(Bytes), notFound: Schema.Boolean })
export type RawGetResponse = typeof RawGetResponse.Type

export const RawPutRequest = Schema.Struct({ context: Schema.optional(Context), key: Key, value: Bytes, cf: CfName })
export type RawPutRequest = typeof RawPutRequest.Type

export const RawDeleteRequest = Schema.Struct({ context: Schema.optional(Context), key: Key, cf: CfName })
export type RawDeleteRequest = typeof RawDeleteRequest.Type

/**
 * `endKey` (exclusive) and `keyOnly` are our additions; TinyKV scans from `startKey` up to `limit` pairs.
 * With `keyOnly` every value comes back empty (`--keys-only`, counting).
 */
export const RawScanRequest = Schema.Struct({
  context: Schema.optional(Context),
  startKey: Key,
  endKey: Schema.optional(Key),
  limit: U64,
  cf: CfName,
  keyOnly: Schema.optional(Schema.Boolean)
})
export type RawScanRequest = typeof RawScanRequest.Type

/**
 * Deletes every key with `startKey <= key < endKey` (absent `endKey`: to the end of the key space) that
 * the store's region holds. A store deletes a bounded number of keys per request and answers where it
 * stopped (`resumeKey`) when keys may remain; absent, the range is done up to the region's end.
 */
export const RawDeleteRangeRequest = Schema.Struct({
  context: Schema.optional(Context),
  startKey: Key,
  endKey: Schema.optional(Key),
  cf: CfName
})
export type RawDeleteRangeRequest = typeof RawDeleteRangeRequest.Type
export const RawDeleteRangeResponse = Schema.Struct({ deleted: U64, resumeKey: Schema.optional(Key) })
export type RawDeleteRangeResponse = typeof RawDeleteRangeResponse.Type

/** Several keys of one region at once; the answer holds the pairs found, in the order asked. */
export const RawBatchGetRequest = Schema.Struct({
  context: Schema.optional(Context),
  keys: Schema.Array(Key),
  cf: CfName
})
export type RawBatchGetRequest = typeof RawBatchGetRequest.Type

/** Writes several pairs of one region in one atomic, durable write. */
export const RawBatchPutRequest = Schema.Struct({
  context: Schema.optional(Context),
  pairs: Schema.Array(Schema.Struct({ key: Key, value: Bytes })),
  cf: CfName
})
export type RawBatchPutRequest = typeof RawBatchPutRequest.Type

/** Deletes several keys of one region in one atomic, durable write. */
export const RawBatchDeleteRequest = Schema.Struct({
  context: Schema.optional(Context),
  keys: Schema.Array(Key),
  cf: CfName
})
export type RawBatchDeleteRequest = typeof RawBatchDeleteRequest.Type

// --- Transactions ---

export const LockInfo = Schema.Struct({
  primaryLock: Bytes,
  lockVersion: Timestamp,
  key: Bytes,
  lockTtl: U64
})
export type LockInfo = typeof LockInfo.Type

export const WriteConflict = Schema.Struct({
  startTs: Timestamp,
  conflictTs: Timestamp,
  key: Bytes,
  primary: Bytes
})
export type WriteConflict = typeof WriteConflict.Type

/** Exactly one of the four is set. */
export const KeyError = Schema.Struct({
  locked: Schema.optional(LockInfo),
  retryable: Schema.optional(Schema.String),
  abort: Schema.optional(Schema.String),
  conflict: Schema.optional(WriteConflict)
})
export type KeyError = typeof KeyError.Type

export const KvPair = Schema.Struct({ error: Schema.optional(KeyError), key: Bytes, value: Bytes })
export type KvPair = typeof KvPair.Type

export const Op = Schema.Literal("Put", "Del", "Rollback", "Lock")
export type Op = typeof Op.Type

export const Mutation = Schema.Struct({ op: Op, key: Key, value: Bytes })
export type Mutation = typeof Mutation.Type

export const Action = Schema.Literal("NoAction", "TTLExpireRollback", "LockNotExistRollback")
export type Action = typeof Action.Type

export const GetRequest = Schema.Struct({ context: Schema.optional(Context), key: Key, version: Timestamp })
export type GetRequest = typeof GetRequest.Type
export const GetResponse = Schema.Struct({
  error: Schema.optional(KeyError),
  value: Schema.optional(Bytes),
  notFound: Schema.Boolean
})
export type GetResponse = typeof GetResponse.Type

export const PrewriteRequest = Schema.Struct({
  context: Schema.optional(Context),
  mutations: Schema.Array(Mutation),
  primaryLock: Bytes,
  startVersion: Timestamp,
  lockTtl: U64
})
export type PrewriteRequest = typeof PrewriteRequest.Type
export const PrewriteResponse = Schema.Struct({ errors: Schema.Array(KeyError) })
export type PrewriteResponse = typeof PrewriteResponse.Type

export const CommitRequest = Schema.Struct({
  context: Schema.optional(Context),
  startVersion: Timestamp,
  keys: Schema.Array(Key),
  commitVersion: Timestamp
})
export type CommitRequest = typeof CommitRequest.Type
export const CommitResponse = Schema.Struct({ error: Schema.optional(KeyError) })
export type CommitResponse = typeof CommitResponse.Type

export const ScanRequest = Schema.Struct({
  context: Schema.optional(Context),
  startKey: Key,
  limit: U64,
  version: Timestamp
})
export type ScanRequest = typeof ScanRequest.Type
export const ScanResponse = Schema.Struct({ pairs: Schema.Array(KvPair) })
export type ScanResponse = typeof ScanResponse.Type

export const BatchRollbackRequest = Schema.Struct({
  context: Schema.optional(Context),
  startVersion: Timestamp,
  keys: Schema.Array(Key)
})
export type BatchRollbackRequest = typeof BatchRollbackRequest.Type
export const BatchRollbackResponse = Schema.Struct({ error: Schema.optional(KeyError) })
export type BatchRollbackResponse = typeof BatchRollbackResponse.Type

export const CheckTxnStatusRequest = Schema.Struct({
  context: Schema.optional(Context),
  primaryKey: Key,
  lockTs: Timestamp,
  currentTs: Timestamp
})
export type CheckTxnStatusRequest = typeof CheckTxnStatusRequest.Type
/** Locked ⇔ `lockTtl > 0`; committed ⇔ `commitVersion > 0`; rolled back ⇔ both 0. */
export const CheckTxnStatusResponse = Schema.Struct({ lockTtl: U64, commitVersion: Timestamp, action: Action })
export type CheckTxnStatusResponse = typeof CheckTxnStatusResponse.Type

export const ResolveLockRequest = Schema.Struct({
  context: Schema.optional(Context),
  startVersion: Timestamp,
  /** 0 rolls the transaction's locks back; otherwise commits them at this version. */
  commitVersion: Timestamp
})
export type ResolveLockRequest = typeof ResolveLockRequest.Type
export const ResolveLockResponse = Schema.Struct({ error: Schema.optional(KeyError) })
export type ResolveLockResponse = typeof ResolveLockResponse.Type
