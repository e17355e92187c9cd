/**
 * What a store serves to clients and other stores (`TinyKvRpcs`); the scheduler's group is in
 * `schedulerRpcs.ts`. Served over TCP with msgpack framing (@effect/rpc).
 *
 * Region errors and bad-request errors travel in each call's typed error channel (`KvError`);
 * per-key transactional errors stay in the response bodies, as in TinyKV.
 *
 * The hottest payloads (store-to-store `Raft`, and the raw get and put) are checked by a predicate
 * derived from their Schema before the Schema itself runs (`fastSchema.ts`): same types, same refusals.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { KvError } from "./errorpb.js"
import { withFastPath } from "./fastSchema.js"
import { Bytes } from "./ids.js"
import { RaftMessage } from "./raftServer.js"
import * as Kv from "./kvrpc.js"
import * as S from "./scheduler.js"

/**
 * The payload of the store-to-store `Raft` call: what the transport's links encode and the store's intake
 * decodes without going through @effect/rpc (`src/layers/raftLink.ts`, `src/server/raftIntake.ts`).
 */
export const RaftPayload = withFastPath(Schema.Struct({ messages: Schema.Array(RaftMessage) }))

export class TinyKvRpcs extends RpcGroup.make(
  Rpc.make("RawGet", {
    payload: withFastPath(Kv.RawGetRequest),
    success: withFastPath(Kv.RawGetResponse),
    error: KvError
  }),
  Rpc.make("RawPut", { payload: withFastPath(Kv.RawPutRequest), error: KvError }),
  Rpc.make("RawDelete", { payload: Kv.RawDeleteRequest, error: KvError }),
  Rpc.make("RawScan", { payload: Kv.RawScanRequest, success: Schema.Array(Kv.KvPair), error: KvError }),
  Rpc.make("RawBatchGet", { payload: Kv.RawBatchGetRequest, success: Schema.Array(Kv.KvPair), error: KvError }),
  Rpc.make("RawBatchPut", { payload: Kv.RawBatchPutRequest, error: KvError }),
  Rpc.make("RawBatchDelete", { payload: Kv.RawBatchDeleteRequest, error: KvError }),
  Rpc.make("RawDeleteRange", {
    payload: Kv.RawDeleteRangeRequest,
    success: Kv.RawDeleteRangeResponse,
    error: KvError
  }),
  Rpc.make("KvGet", { payload: Kv.GetRequest, success: Kv.GetResponse, error: KvError }),
  Rpc.make("KvScan", { payload: Kv.ScanRequest, success: Kv.ScanResponse, error: KvError }),
  Rpc.make("KvPrewrite", { payload: Kv.PrewriteRequest, success: Kv.PrewriteResponse, error: KvError }),
  Rpc.make("KvCommit", { payload: Kv.CommitRequest, success: Kv.CommitResponse, error: KvError }),
  Rpc.make("KvCheckTxnStatus", {
    payload: Kv.CheckTxnStatusRequest,
    success: Kv.CheckTxnStatusResponse,
    error: KvError
  }),
  Rpc.make("KvBatchRollback", { payload: Kv.BatchRollbackRequest, success: Kv.BatchRollbackResponse, error: KvError }),
  Rpc.make("KvResolveLock", { payload: Kv.ResolveLockRequest, success: Kv.ResolveLockResponse, error: KvError }),
  /**
   * Store to store: a batch of Raft messages for peers on the receiving store (TinyKV's `Raft` stream).
   * One-way (`oneWay.ts`): never answered; Raft tolerates loss. Messages carrying a snapshot go by `Snapshot`.
   */
  Rpc.make("Raft", { payload: RaftPayload, error: KvError }),
  /**
   * Store to store: one piece (≤ 1 MiB) of a MsgSnapshot. The receiver buffers the pieces of `transferId` and
   * delivers the message once the piece with `last: true` arrived; the first piece carries `message` (the
   * MsgSnapshot with its snapshot data taken out), the pieces' `data` concatenated is that snapshot data.
   */
  Rpc.make("Snapshot", {
    payload: {
      transferId: Schema.String,
      seq: Schema.Number,
      last: Schema.Boolean,
      message: Schema.optional(RaftMessage),
      data: Bytes
    },
    error: KvError
  }),
  /** Timestamps for a standalone store (a cluster asks the scheduler). */
  Rpc.make("Tso", { payload: { count: Schema.Number }, success: S.TsoResponse, error: KvError })
) {}

/**
 * The raw calls that skip @effect/rpc's per-call machinery on both ends when tracing is off: the store's fast
 * lane (`src/server/fastLane.ts`) and the client's lean calls (`src/rpc/leanCalls.ts`).
 */
export const HOT_RAW_CALLS: ReadonlyArray<string> = ["RawGet", "RawPut"]
