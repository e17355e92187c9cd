/** `tinykv server`: run a store process (replicated, or `--standalone`). */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Layer, Option } from "effect"
import { parseAddress } from "../../rpc/address.js"
import { layerClusterStore } from "../../layers/clusterStore.js"
import { layerStandaloneStore } from "../../layers/standaloneStore.js"
import { defaultConfig } from "../../raftstore/config.js"
import { parsePeerAddresses } from "../../cli/peerAddresses.js"
import { checkAddress, reportErrors, UsageError } from "./common.js"

export const addrOption = Options.text("addr").pipe(
  Options.withDefault("127.0.0.1:20160"),
  Options.withDescription("address HOST:PORT to listen on")
)
export const dataOption = Options.text("data").pipe(
  Options.withDefault("./data"),
  Options.withDescription("directory for the store's data (created if missing)")
)

const parseIds = (text: string): ReadonlyArray<number> | undefined => {
  if (text.trim() === "") return []
  const ids = text.split(",").map((s) => Number(s.trim()))
  return ids.every((n) => Number.isSafeInteger(n) && n > 0) ? ids : undefined
}

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
    ),
    storeId: Options.integer("store-id").pipe(
      Options.optional,
      Options.withDescription("this store's id (default: the one in --data, else a new id from the scheduler)")
    ),
    initialStores: Options.text("initial-stores").pipe(
      Options.withDefault(""),
      Options.withDescription(
        "comma-separated store ids of a NEW cluster's first region, e.g. 1,2,3 (give the same list to each of them)"
      )
    ),
    gcLimit: Options.integer("raft-log-gc-limit").pipe(
      Options.withDefault(defaultConfig.raftLogGcCountLimit),
      Options.withDescription("compact a region's raft log once it holds this many applied entries")
    ),
    tickMs: Options.integer("raft-tick-ms").pipe(
      Options.withDefault(defaultConfig.baseTickMs),
      Options.withDescription("one Raft tick; elections time out after 10-20 ticks, heartbeats every 2")
    ),
    advertise: Options.text("advertise").pipe(
      Options.optional,
      Options.withDescription("address HOST:PORT other stores and clients use to reach this one (default: --addr)")
    ),
    peerAddresses: Options.text("peer-addresses").pipe(
      Options.withDefault(""),
      Options.withDescription(
        "dial these stores here instead of where the scheduler says, e.g. 2=127.0.0.1:7002,3=127.0.0.1:7003 (fault-injecting proxies)"
      )
    )
  },
  ({ addr, data, standalone, scheduler, storeId, initialStores, advertise, gcLimit, tickMs, peerAddresses }) =>
    reportErrors(
      Effect.gen(function* () {
        const address = yield* checkAddress(addr)
        const { host, port } = parseAddress(address)
        if (standalone) {
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
          return yield* Layer.launch(Layer.provideMerge(banner, layerStandaloneStore({ host, port, dataDir: data })))
        }
        const schedulerAddress = yield* checkAddress(scheduler)
        const initial = parseIds(initialStores)
        if (initial === undefined) {
          return yield* Effect.fail(new UsageError(`--initial-stores "${initialStores}" is not a list of store ids`))
        }
        if (gcLimit < 1 || tickMs < 1) {
          return yield* Effect.fail(new UsageError("--raft-log-gc-limit and --raft-tick-ms must be positive"))
        }
        const peers = parsePeerAddresses(peerAddresses)
        if (peers instanceof UsageError) return yield* Effect.fail(peers)
        const id = Option.getOrUndefined(storeId)
        if (id !== undefined && id <= 0) return yield* Effect.fail(new UsageError("--store-id must be positive"))
        const store = layerClusterStore({
          host,
          port,
          advertise: Option.getOrUndefined(advertise),
          dataDir: data,
          scheduler: schedulerAddress,
          storeId: id,
          initialStores: initial,
          peerAddresses: peers,
          config: { ...defaultConfig, raftLogGcCountLimit: gcLimit, baseTickMs: tickMs }
        })
        const banner = Layer.effectDiscard(
          Console.log(`tinykv store listening on ${address} (scheduler ${schedulerAddress}, data in ${data})`)
        )
        return yield* Layer.launch(Layer.provideMerge(banner, store))
      })
    )
).pipe(
  Command.withDescription(
    "Run a store. Replicated by default (it joins the cluster of --scheduler); --standalone runs a single local store."
  )
)
