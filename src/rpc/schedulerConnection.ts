/**
 * `SchedulerClient` over RPC (TCP, framed msgpack) to a `tinykv scheduler`: what stores and cluster
 * clients use to reach it.
 *
 * Like TinyKV's client (`scheduler_client/client.go`: 1 s per try, retried for ~10 s), every call
 * has a per-attempt timeout and an overall deadline: transport failures and attempt timeouts are
 * retried with exponential backoff until the deadline, then surface as `SchedulerUnavailable`; the
 * scheduler's own `SchedulerError`s are returned at once. Retrying is safe for every call: the
 * worst a duplicate does is waste ids (AllocId, AskSplit) or answer ALREADY_BOOTSTRAPPED to a
 * bootstrap whose first answer was lost — which a store must handle anyway.
 *
 * The socket connects lazily and reconnects in the background; the cluster id is learnt with
 * GetMembers on first use and sent in every header, so a store never talks to another cluster's
 * scheduler by mistake.
 */
import type { RpcClientError } from "@effect/rpc"
import { Duration, Effect, Schedule, type Scope } from "effect"
import type { GetRegionResponse, RequestHeader, SchedulerError } from "../protocol/scheduler.js"
import { SchedulerRpcs } from "../protocol/schedulerRpcs.js"
import {
  type RegionAndLeader,
  SchedulerClient,
  type SchedulerClientError,
  SchedulerUnavailable
} from "../services/SchedulerClient.js"
import { dialRpc } from "./dial.js"
import { describeRpcClientError, isRpcClientError, isTlsRefusal } from "./errors.js"
import type { TlsCredentials } from "./tlsCredentials.js"

export interface SchedulerConnectionOptions {
  /** `HOST:PORT` of the scheduler. */
  readonly address: string
  /** Per attempt (default 2 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Per call, retries included (default 10 s). */
  readonly deadline?: Duration.DurationInput | undefined
  /** Dial with TLS, presenting these credentials. */
  readonly tls?: TlsCredentials | undefined
}

/** Between attempts: 50 ms doubling, at most 1 s. Also how fast a dropped socket reconnects. */
const backoff = Schedule.exponential("50 millis", 2).pipe(Schedule.union(Schedule.spaced("1 second")))

/** Connects (lazily) for the lifetime of the scope. */
export const connectScheduler = (
  options: SchedulerConnectionOptions
): Effect.Effect<SchedulerClient["Type"], SchedulerUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const { address } = options
    const rpc = yield* Effect.mapError(
      dialRpc(SchedulerRpcs, address, { retrySchedule: backoff, tls: options.tls }),
      (e) => new SchedulerUnavailable({ address, message: e.message })
    )
    const timeout = Duration.decode(options.timeout ?? "2 seconds")
    const deadline = Duration.decode(options.deadline ?? "10 seconds")

    let clusterId: number | undefined
    const header: Effect.Effect<RequestHeader, SchedulerError | RpcClientError.RpcClientError> = Effect.suspend(() =>
      clusterId !== undefined
        ? Effect.succeed({ clusterId })
        : Effect.map(rpc.GetMembers({ header: { clusterId: 0 } }), (m) => {
            clusterId = m.header.clusterId
            return { clusterId }
          })
    )

    /** One call with the attempt timeout, transport-error mapping, retries and the deadline. */
    const call = <A>(
      method: string,
      f: (h: RequestHeader) => Effect.Effect<A, SchedulerError | RpcClientError.RpcClientError>
    ): Effect.Effect<A, SchedulerClientError> =>
      Effect.suspend(() => {
        let last = "no attempt finished"
        const attempt = Effect.flatMap(header, f).pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () =>
              new SchedulerUnavailable({
                address,
                message: `${method} timed out after ${Duration.toMillis(timeout)} ms`
              })
          }),
          Effect.catchIf(isRpcClientError, (e) =>
            Effect.fail(
              new SchedulerUnavailable({ address, message: describeRpcClientError(e), refused: isTlsRefusal(e) })
            )
          ),
          Effect.tapError((e) =>
            Effect.sync(() => {
              if (e instanceof SchedulerUnavailable) last = e.message
            })
          )
        )
        return attempt.pipe(
          Effect.retry({ schedule: backoff, while: (e) => e instanceof SchedulerUnavailable && e.refused !== true }),
          Effect.timeoutFail({
            duration: deadline,
            onTimeout: () =>
              new SchedulerUnavailable({
                address,
                message: `${method}: no answer within ${Duration.toMillis(deadline)} ms (last: ${last})`
              })
          })
        )
      })

    const toRegionAndLeader = (r: GetRegionResponse): RegionAndLeader | undefined =>
      r.region === undefined ? undefined : { region: r.region, leader: r.leader }

    return SchedulerClient.of({
      bootstrap: (store, region) => call("Bootstrap", (h) => rpc.Bootstrap({ header: h, store, region })),
      isBootstrapped: call("IsBootstrapped", (h) =>
        Effect.map(rpc.IsBootstrapped({ header: h }), (r) => r.bootstrapped)
      ),
      allocId: call("AllocId", (h) => Effect.map(rpc.AllocId({ header: h }), (r) => r.id)),
      putStore: (store) => call("PutStore", (h) => rpc.PutStore({ header: h, store })),
      getStore: (storeId) => call("GetStore", (h) => Effect.map(rpc.GetStore({ header: h, storeId }), (r) => r.store)),
      getAllStores: (opts) =>
        call("GetAllStores", (h) =>
          Effect.map(
            rpc.GetAllStores({ header: h, excludeTombstoneStores: opts?.excludeTombstones ?? false }),
            (r) => r.stores
          )
        ),
      storeHeartbeat: (stats) => call("StoreHeartbeat", (h) => rpc.StoreHeartbeat({ header: h, stats })),
      regionHeartbeat: (hb) => call("RegionHeartbeat", (h) => rpc.RegionHeartbeat({ header: h, ...hb })),
      getRegion: (key) =>
        call("GetRegion", (h) => Effect.map(rpc.GetRegion({ header: h, regionKey: key }), toRegionAndLeader)),
      getRegionById: (regionId) =>
        call("GetRegionById", (h) => Effect.map(rpc.GetRegionById({ header: h, regionId }), toRegionAndLeader)),
      scanRegions: (startKey, endKey, limit = 0) =>
        call("ScanRegions", (h) =>
          Effect.map(rpc.ScanRegions({ header: h, startKey, endKey, limit }), (r) =>
            r.regions.map(({ region, leader }) => ({ region, leader }))
          )
        ),
      askSplit: (region) => call("AskSplit", (h) => rpc.AskSplit({ header: h, region })),
      reportSplit: (left, right) => call("ReportSplit", (h) => rpc.ReportSplit({ header: h, left, right })),
      tso: (count) => call("Tso", (h) => Effect.map(rpc.Tso({ header: h, count }), (r) => r.timestamp))
    })
  })
