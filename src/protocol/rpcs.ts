/**
 * The RPC groups: what a store serves to clients and other stores (`TinyKvRpcs`) and what the
 * scheduler serves (`SchedulerRpcs`). Served over TCP with msgpack framing (@effect/rpc).
 *
 * Region errors and bad-request errors travel in each call's typed error channel (`KvError`);
 * per-key transactional errors stay in the response bodies, as in TinyKV.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { KvError } from "./errorpb.js"
import * as Kv from "./kvrpc.js"
import * as S from "./scheduler.js"

const header = { header: S.RequestHeader }

export class TinyKvRpcs extends RpcGroup.make(
  Rpc.make("RawGet", { payload: Kv.RawGetRequest, success: Kv.RawGetResponse, error: KvError }),
  Rpc.make("RawPut", { payload: Kv.RawPutRequest, error: KvError }),
  Rpc.make("RawDelete", { payload: Kv.RawDeleteRequest, error: KvError }),
  Rpc.make("RawScan", { payload: Kv.RawScanRequest, success: Schema.Array(Kv.KvPair), error: KvError }),
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
  /** Timestamps for a standalone store (a cluster asks the scheduler). */
  Rpc.make("Tso", { payload: { count: Schema.Number }, success: S.TsoResponse, error: KvError })
) {}

export class SchedulerRpcs extends RpcGroup.make(
  Rpc.make("GetMembers", { payload: header, success: S.GetMembersResponse, error: S.SchedulerError }),
  Rpc.make("Tso", { payload: S.TsoRequest, success: S.TsoResponse, error: S.SchedulerError }),
  Rpc.make("Bootstrap", { payload: S.BootstrapRequest, error: S.SchedulerError }),
  Rpc.make("IsBootstrapped", { payload: header, success: S.IsBootstrappedResponse, error: S.SchedulerError }),
  Rpc.make("AllocId", { payload: header, success: S.AllocIdResponse, error: S.SchedulerError }),
  Rpc.make("GetStore", { payload: S.GetStoreRequest, success: S.GetStoreResponse, error: S.SchedulerError }),
  Rpc.make("PutStore", { payload: S.PutStoreRequest, error: S.SchedulerError }),
  Rpc.make("GetAllStores", {
    payload: S.GetAllStoresRequest,
    success: S.GetAllStoresResponse,
    error: S.SchedulerError
  }),
  Rpc.make("StoreHeartbeat", { payload: S.StoreHeartbeatRequest, error: S.SchedulerError }),
  Rpc.make("RegionHeartbeat", {
    payload: S.RegionHeartbeatRequest,
    success: Schema.OptionFromUndefinedOr(S.RegionHeartbeatResponse),
    error: S.SchedulerError
  }),
  Rpc.make("GetRegion", { payload: S.GetRegionRequest, success: S.GetRegionResponse, error: S.SchedulerError }),
  Rpc.make("GetRegionById", { payload: S.GetRegionByIdRequest, success: S.GetRegionResponse, error: S.SchedulerError }),
  Rpc.make("ScanRegions", { payload: S.ScanRegionsRequest, success: S.ScanRegionsResponse, error: S.SchedulerError }),
  Rpc.make("AskSplit", { payload: S.AskSplitRequest, success: S.AskSplitResponse, error: S.SchedulerError }),
  Rpc.make("ReportSplit", { payload: S.ReportSplitRequest, error: S.SchedulerError }),
  Rpc.make("GetClusterConfig", { payload: header, success: S.GetClusterConfigResponse, error: S.SchedulerError }),
  Rpc.make("PutClusterConfig", { payload: S.PutClusterConfigRequest, error: S.SchedulerError }),
  Rpc.make("GetGcSafePoint", { payload: header, success: S.GcSafePointResponse, error: S.SchedulerError }),
  Rpc.make("UpdateGcSafePoint", {
    payload: S.UpdateGcSafePointRequest,
    success: S.GcSafePointResponse,
    error: S.SchedulerError
  }),
  Rpc.make("GetOperator", { payload: S.GetOperatorRequest, success: S.GetOperatorResponse, error: S.SchedulerError })
) {}
