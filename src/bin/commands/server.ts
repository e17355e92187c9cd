/** `tinykv server`: run a store process. */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Layer } from "effect"
import { parseAddress } from "../../client/storeConnection.js"
import { layerStandaloneStore } from "../../layers/standaloneStore.js"
import { checkAddress, reportErrors, UsageError } from "./common.js"

export const addrOption = Options.text("addr").pipe(
  Options.withDefault("127.0.0.1:20160"),
  Options.withDescription("address HOST:PORT to listen on")
)
export const dataOption = Options.text("data").pipe(
  Options.withDefault("./data"),
  Options.withDescription("directory for the store's data (created if missing)")
)

export const server = Command.make(
  "server",
  {
    addr: addrOption,
    data: dataOption,
    standalone: Options.boolean("standalone").pipe(
      Options.withDescription("serve raw and transactional KV from a local engine: no Raft, no scheduler")
    ),
    scheduler: Options.text("scheduler").pipe(
      Options.withDefault("127.0.0.1:2379"),
      Options.withDescription("address HOST:PORT of the scheduler (replicated mode)")
    )
  },
  ({ addr, data, standalone }) =>
    reportErrors(
      Effect.gen(function* () {
        const address = yield* checkAddress(addr)
        if (!standalone) {
          return yield* Effect.fail(
            new UsageError("replicated mode is not available in this build yet; run with --standalone")
          )
        }
        const { host, port } = parseAddress(address)
        const store = layerStandaloneStore({ host, port, dataDir: data })
        const banner = Layer.effectDiscard(
          Console.log(
            [
              `tinykv standalone store listening on ${address} (data in ${data})`,
              "try, in another shell:",
              `  npx tinykv put hello world --store ${address}`,
              `  npx tinykv get hello --store ${address}`,
              "stop with Ctrl-C"
            ].join("\n")
          )
        )
        return yield* Layer.launch(Layer.provideMerge(banner, store))
      })
    )
).pipe(Command.withDescription("Run a store. With --standalone, a single local store (no replication)."))
