/**
 * The scheduler as `tinykv ctl` talks to it: one RPC connection (TCP, framed msgpack), every call
 * bounded by a timeout and its failures turned into one readable `UsageError` (the command prints
 * it as `error: …` and exits 1). No retries: an operator's tool should say at once that the
 * scheduler is not there rather than wait like a store does.
 */
import { NodeSocket } from "@effect/platform-node"
import { RpcClient, type RpcClientError } from "@effect/rpc"
import { Duration, Effect, Layer, Schedule, type Scope } from "effect"
import { parseAddress } from "../client/storeConnection.js"
import type { SchedulerError } from "../protocol/scheduler.js"
import { SchedulerRpcs } from "../protocol/schedulerRpcs.js"
import { layerFramedMsgPack } from "../rpc/framedMsgPack.js"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import { layerTlsSocket } from "../rpc/tlsDial.js"
import { UsageError } from "./usage.js"

export type CtlRpcs = RpcClient.FromGroup<typeof SchedulerRpcs, RpcClientError.RpcClientError>

export interface CtlClient {
  /** Runs one call with the cluster header; any failure becomes a `UsageError`. */
  readonly call: <A>(
    method: string,
    f: (
      rpc: CtlRpcs,
      header: { readonly clusterId: number }
    ) => Effect.Effect<A, SchedulerError | RpcClientError.RpcClientError>
  ) => Effect.Effect<A, UsageError>
}

/** The socket's own reason (ECONNREFUSED, …) rather than @effect/rpc's generic "Error in socket". */
const describe = (e: RpcClientError.RpcClientError): string => {
  const cause = e.cause as { message?: string; cause?: { message?: string; code?: string } } | undefined
  return cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? e.message
}

const isSchedulerError = (e: unknown): e is SchedulerError =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SchedulerError"

/**
 * Connects to `address` for the scope's lifetime (in mutual TLS with `tls`); calls time out after
 * `timeout` (default 5 s).
 */
export const makeCtlClient = (
  address: string,
  timeout: Duration.DurationInput = "5 seconds",
  tls?: TlsCredentials
): Effect.Effect<CtlClient, UsageError, Scope.Scope> =>
  Effect.gen(function* () {
    const { host, port } = parseAddress(address)
    const protocol = RpcClient.layerProtocolSocket({ retrySchedule: Schedule.spaced("100 millis") }).pipe(
      Layer.provide(
        tls === undefined ? NodeSocket.layerNet({ host, port, noDelay: true }) : layerTlsSocket(host, port, tls)
      ),
      Layer.provide(layerFramedMsgPack)
    )
    const context = yield* Layer.build(protocol).pipe(
      Effect.mapError((e) => new UsageError(`cannot reach the scheduler at ${address}: ${e.message}`))
    )
    const rpc: CtlRpcs = yield* RpcClient.make(SchedulerRpcs, { disableTracing: true }).pipe(Effect.provide(context))
    const ms = Duration.toMillis(Duration.decode(timeout))
    const call: CtlClient["call"] = (method, f) =>
      f(rpc, { clusterId: 0 }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new UsageError(`cannot reach the scheduler at ${address}: ${method} got no answer in ${ms} ms`)
        }),
        Effect.mapError((e) =>
          e instanceof UsageError
            ? e
            : isSchedulerError(e)
              ? new UsageError(e.type === "NOT_BOOTSTRAPPED" ? "the cluster is not bootstrapped yet" : e.message)
              : new UsageError(`cannot reach the scheduler at ${address}: ${describe(e)}`)
        )
      )
    return { call }
  })
