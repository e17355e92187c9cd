/** `tinykv scheduler`: run the scheduler (TinyKV's "PD") until SIGINT/SIGTERM. */
import { Command, Options } from "@effect/cli"
import { Console, Duration, Effect, Layer, Option } from "effect"
import { parseDuration } from "../../cli/ctlDuration.js"
import { parseAddress } from "../../rpc/address.js"
import { checkAddress, lazy, reportErrors, UsageError } from "./common.js"
import { tlsAllowedCnOption, tlsFileOptions, tlsFromFlags } from "./tlsOptions.js"
import { logFormatOption, statusAddrOption, statusAddress } from "./observability.js"

/** The coordinator's settings; `tinykv playground` passes the same flags through. */
export const scheduleOptions = {
  maxReplicas: Options.integer("max-replicas").pipe(
    Options.withDefault(3),
    Options.withDescription("replicas per region the replica checker keeps (default 3)")
  ),
  maxStoreDownTime: Options.text("max-store-down-time").pipe(
    Options.withDefault("30m"),
    Options.withDescription(
      "a store silent this long is Down and its replicas are replaced elsewhere (default 30m; e.g. 30s, 10m, 1h)"
    )
  ),
  scheduleInterval: Options.text("schedule-interval").pipe(
    Options.withDefault("1s"),
    Options.withDescription("how often the coordinator runs its checkers (default 1s; e.g. 500ms); 0 turns it off")
  )
}

const checkScheduleOptions = (o: { maxReplicas: number; maxStoreDownTime: string; scheduleInterval: string }) =>
  Effect.gen(function* () {
    if (o.maxReplicas < 1) return yield* Effect.fail(new UsageError("--max-replicas must be at least 1"))
    const down = parseDuration(o.maxStoreDownTime)
    if (down === undefined || Duration.toMillis(down) <= 0) {
      return yield* Effect.fail(
        new UsageError(`--max-store-down-time "${o.maxStoreDownTime}" is not a duration like 30s`)
      )
    }
    const interval = parseDuration(o.scheduleInterval)
    if (interval === undefined) {
      return yield* Effect.fail(new UsageError(`--schedule-interval "${o.scheduleInterval}" is not a duration like 1s`))
    }
    return {
      maxReplicas: o.maxReplicas,
      maxStoreDownTimeMs: Duration.toMillis(down),
      scheduleInterval: Duration.toMillis(interval) === 0 ? (false as const) : interval
    }
  })

const isListenError = (e: unknown): e is { readonly cause?: { readonly code?: string; readonly message?: string } } =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SocketServerError"

const listenCause = (e: { readonly cause?: { readonly code?: string; readonly message?: string } }): string =>
  e.cause?.code ?? e.cause?.message ?? "unknown error"

export const scheduler = Command.make(
  "scheduler",
  {
    addr: Options.text("addr").pipe(
      Options.withDefault("127.0.0.1:2379"),
      Options.withDescription("address HOST:PORT to listen on")
    ),
    data: Options.text("data").pipe(
      Options.withDefault("./data/scheduler"),
      Options.withDescription("directory for the scheduler's state (created if missing)")
    ),
    ...scheduleOptions,
    ...tlsFileOptions,
    tlsAllowedCn: tlsAllowedCnOption,
    statusAddr: statusAddrOption,
    logFormat: logFormatOption
  },
  ({ addr, data, tlsCa, tlsCert, tlsKey, tlsAllowedCn, statusAddr, logFormat, ...schedule }) =>
    reportErrors(
      // loaded here, not at the top: other commands start without the status listener's code
      lazy(
        () => import("../../status/compose.js"),
        ({ withObservability, withStatus }) =>
          Effect.gen(function* () {
            const address = yield* checkAddress(addr)
            const status = yield* statusAddress(statusAddr)
            const tls = yield* tlsFromFlags({ tlsCa, tlsCert, tlsKey }, tlsAllowedCn)
            const config = yield* checkScheduleOptions(schedule)
            const { host, port } = parseAddress(address)
            // loaded here, not at the top: other commands start without the scheduler's code
            const { layerServer } = yield* Effect.promise(() => import("../../layers/schedulerServer.js"))
            const { Scheduler } = yield* Effect.promise(() => import("../../scheduler/service.js"))
            const { layerSchedulerHealth } = yield* Effect.promise(() => import("../../layers/schedulerHealth.js"))
            const { dashboardRoutes } = yield* Effect.promise(() => import("../../status/dashboard.js"))
            const banner = Layer.effectDiscard(
              Effect.gen(function* () {
                const { clusterId } = yield* Scheduler
                yield* Console.log(
                  [
                    `tinykv scheduler listening on ${address} (cluster ${clusterId}, data in ${data}${tls === undefined ? "" : ", mutual TLS"})`,
                    `stores reach it with --scheduler ${address}`,
                    ...Option.match(status, {
                      onNone: () => [],
                      onSome: (s) =>
                        tls === undefined
                          ? [`status on http://${s} (/metrics, /health, /ready)`, `dashboard at http://${s}/dashboard`]
                          : [
                              `status on https://${s} (/metrics, /health, /ready; mutual TLS: a client certificate of the CA)`,
                              `dashboard at https://${s}/dashboard`
                            ]
                    }),
                    "stop with Ctrl-C"
                  ].join("\n")
                )
              })
            )
            const server = Layer.provideMerge(
              layerSchedulerHealth,
              layerServer({ host, port, dataDir: data, ...config, tls })
            )
            return yield* Layer.launch(
              Layer.provideMerge(banner, withStatus(server, status, "tinykv-scheduler", dashboardRoutes, tls))
            ).pipe(
              Effect.mapError((e) =>
                isListenError(e) ? new UsageError(`cannot listen on ${address}: ${listenCause(e)}`) : e
              )
            )
          }).pipe(withObservability(logFormat, "tinykv-scheduler"))
      )
    )
).pipe(
  Command.withDescription("Run the scheduler: cluster metadata, region routing, ids and timestamps for the stores.")
)
