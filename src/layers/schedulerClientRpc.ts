/** `SchedulerClient` to a `tinykv scheduler` over RPC, as a layer (the connection is `src/rpc/schedulerConnection.ts`). */
import { Layer } from "effect"
import { connectScheduler, type SchedulerConnectionOptions } from "../rpc/schedulerConnection.js"
import { SchedulerClient, type SchedulerUnavailable } from "../services/SchedulerClient.js"

// NB: the old names, kept for callers outside this module's owners (bin, tests)
export { connectScheduler as makeClientRpc, type SchedulerConnectionOptions as ClientRpcOptions }

/** `SchedulerClient` to the scheduler at `options.address`, connected for the layer's lifetime. */
export const layerClientRpc = (
  options: SchedulerConnectionOptions
): Layer.Layer<SchedulerClient, SchedulerUnavailable> => Layer.scoped(SchedulerClient, connectScheduler(options))
