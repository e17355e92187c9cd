/**
 * What the scheduler serves to stores and clients (TinyKV `schedulerpb.Scheduler`), over TCP +
 * msgpack. Every failure the scheduler decides is a `SchedulerError` (the Go header's error); the
 * Go streams (Tso, RegionHeartbeat) are unary calls here. Semantics: `src/scheduler/core.ts`.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import * as S from "./scheduler.js"

const header = { header: S.RequestHeader }

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
  Rpc.make("StoreHeartbeat", {
    payload: S.StoreHeartbeatRequest,
    success: S.StoreHeartbeatResponse,
    error: S.SchedulerError
  }),
  Rpc.make("RegionHeartbeat", {
    payload: S.RegionHeartbeatRequest,
    success: Schema.OptionFromUndefinedOr(S.RegionHeartbeatResponse),
    error: S.SchedulerError
  }),
  Rpc.make("GetRegion", { payload: S.GetRegionRequest, success: S.GetRegionResponse, error: S.SchedulerError }),
  Rpc.make("GetPrevRegion", { payload: S.GetRegionRequest, success: S.GetRegionResponse, error: S.SchedulerError }),
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
  Rpc.make("GetOperator", { payload: S.GetOperatorRequest, success: S.GetOperatorResponse, error: S.SchedulerError }),
  // admin (`tinykv ctl`)
  Rpc.make("AddOperator", { payload: S.AddOperatorRequest, success: S.OperatorInfo, error: S.SchedulerError }),
  Rpc.make("ListOperators", { payload: header, success: S.ListOperatorsResponse, error: S.SchedulerError }),
  Rpc.make("SetStoreState", { payload: S.SetStoreStateRequest, error: S.SchedulerError }),
  Rpc.make("SplitRegion", { payload: S.SplitRegionRequest, success: S.OperatorInfo, error: S.SchedulerError }),
  Rpc.make("ScanRegionDetails", {
    payload: S.ScanRegionsRequest,
    success: S.ScanRegionDetailsResponse,
    error: S.SchedulerError
  })
) {}
