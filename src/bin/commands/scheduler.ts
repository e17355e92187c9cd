/** `tinykv scheduler`: run the scheduler (TinyKV's "PD") until SIGINT/SIGTERM. */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Layer } from "effect"
import { parseAddress } from "../../client/storeConnection.js"
import { layerServer } from "../../layers/schedulerServer.js"
import { Scheduler } from "../../scheduler/service.js"
import { checkAddress, reportErrors, UsageError } from "./common.js"

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
    )
  },
  ({ addr, data }) =>
    reportErrors(
      Effect.gen(function* () {
        const address = yield* checkAddress(addr)
        const { host, port } = parseAddress(address)
        const banner = Layer.effectDiscard(
          Effect.gen(function* () {
            const { clusterId } = yield* Scheduler
            yield* Console.log(
              [
                `tinykv scheduler listening on ${address} (cluster ${clusterId}, data in ${data})`,
                `stores reach it with --scheduler ${address}`,
                "stop with Ctrl-C"
              ].join("\n")
            )
          })
        )
        return yield* Layer.launch(Layer.provideMerge(banner, layerServer({ host, port, dataDir: data }))).pipe(
          Effect.mapError((e) =>
            isListenError(e) ? new UsageError(`cannot listen on ${address}: ${listenCause(e)}`) : e
          )
        )
      })
    )
).pipe(
  Command.withDescription("Run the scheduler: cluster metadata, region routing, ids and timestamps for the stores.")
)
