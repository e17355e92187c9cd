/** `tinykv server`: run a store process (replicated, or `--standalone`). */
import * as v8 from "node:v8"
import { Command, Options } from "@effect/cli"
import { Console, Duration, Effect, Layer, Option } from "effect"
import { parseAddress } from "../../rpc/address.js"
import { defaultConfig, RAFT_ENGINES } from "../../raftstore/config.js"
import { parsePeerAddresses } from "../../cli/peerAddresses.js"
import { parseByteSize } from "../../cli/byteSize.js"
import { parseDuration } from "../../cli/ctlDuration.js"
import { checkAddress, lazy, reportErrors, UsageError } from "./common.js"
import { tlsAllowedCnOption, tlsFileOptions, tlsFromFlags } from "./tlsOptions.js"
import { logFormatOption, statusAddrOption, statusAddress } from "./observability.js"

export const addrOption = Options.text("addr").pipe(
  Options.withDefault("127.0.0.1:20160"),
  Options.withDescription("address HOST:PORT to listen on")
)
export const dataOption = Options.text("data").pipe(
  Options.withDefault("./data"),
  Options.withDescription("directory for the store's data (created if missing)")
)

/**
 * Region split thresholds. A store's defaults are TiKV's (96MiB / 144MiB, checked every 10s); the
 * playground passes smaller ones, so that a few MB written on a laptop show many regions.
 */
export const makeSplitOptions = (defaults: { split: string; max: string; interval: string }) => ({
  regionSplitSize: Options.text("region-split-size").pipe(
    Options.withDefault(defaults.split),
    Options.withDescription("split a region that grew past --region-max-size into pieces about this large (e.g. 96MiB)")
  ),
  regionMaxSize: Options.text("region-max-size").pipe(
    Options.withDefault(defaults.max),
    Options.withDescription("split a region once it holds more than this many bytes (e.g. 144MiB)")
  ),
  splitCheckInterval: Options.text("split-check-interval").pipe(
    Options.withDefault(defaults.interval),
    Options.withDescription("how often a region that was written to is measured for a split (e.g. 10s)")
  )
})

/** The two sizes in bytes, or a UsageError naming the flag that is wrong. */
export const checkSplitSizes = (o: {
  readonly regionSplitSize: string
  readonly regionMaxSize: string
  readonly splitCheckInterval: string
}) =>
  Effect.gen(function* () {
    const interval = parseDuration(o.splitCheckInterval)
    if (interval === undefined || Duration.toMillis(interval) <= 0) {
      return yield* Effect.fail(
        new UsageError(`--split-check-interval "${o.splitCheckInterval}" is not a duration like 10s`)
      )
    }
    const split = parseByteSize(o.regionSplitSize)
    if (split === undefined) {
      return yield* Effect.fail(new UsageError(`--region-split-size "${o.regionSplitSize}" is not a size like 96MiB`))
    }
    const max = parseByteSize(o.regionMaxSize)
    if (max === undefined) {
      return yield* Effect.fail(new UsageError(`--region-max-size "${o.regionMaxSize}" is not a size like 144MiB`))
    }
    if (max < split) {
      return yield* Effect.fail(new UsageError("--region-max-size must be at least --region-split-size"))
    }
    return { regionSplitSize: split, regionMaxSize: max, splitCheckMs: Duration.toMillis(interval) }
  })

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
    gcThreshold: Options.integer("raft-log-gc-threshold").pipe(
      Options.withDefault(defaultConfig.raftLogGcThreshold),
      Options.withDescription(
        "compact a region's raft log up to the entry every member holds once this many such applied entries are in it"
      )
    ),
    gcSizeLimit: Options.text("raft-log-gc-size-limit").pipe(
      Options.withDefault("72MiB"),
      Options.withDescription(
        "compact a region's raft log once its applied entries hold this many bytes (e.g. 72MiB), even below --raft-log-gc-limit"
      )
    ),
    tickMs: Options.integer("raft-tick-ms").pipe(
      Options.withDefault(defaultConfig.baseTickMs),
      Options.withDescription("one Raft tick; elections time out after 10-20 ticks, heartbeats every 2")
    ),
    readPath: Options.choice("read-path", ["readIndex", "log"]).pipe(
      Options.withDefault(defaultConfig.readPath),
      Options.withDescription(
        "how linearizable reads are served: readIndex (a heartbeat round, nothing logged) or log (a log entry per read)"
      )
    ),
    // named for the negation, as --no-hibernate-regions: lease reads are on by default
    noLeaseReads: Options.boolean("no-lease-reads", { negationNames: ["lease-reads"] }).pipe(
      Options.withDescription(
        "every read asks a quorum (ReadIndex); by default (--lease-reads) a leader a quorum confirmed in the last 8 ticks answers reads alone"
      )
    ),
    heartbeatIdle: Options.text("region-heartbeat-idle-interval").pipe(
      Options.withDefault("5s"),
      Options.withDescription(
        "how often a region leader whose report has not changed reports to the scheduler anyway (a changed one reports within 10 ticks)"
      )
    ),
    // named for the negation: a boolean option is false when absent, and hibernation is on by default
    noHibernateRegions: Options.boolean("no-hibernate-regions", { negationNames: ["hibernate-regions"] }).pipe(
      Options.withDescription(
        "every region ticks and heartbeats all the time; by default (--hibernate-regions) quiet regions stop until a request or a message wakes them"
      )
    ),
    raftEngine: Options.choice("raft-engine", RAFT_ENGINES).pipe(
      Options.withDefault("log"),
      Options.withDescription(
        "where the raft log lives: log (a log of its own in DATA/raftlog: one fdatasync per round, the engine synced only when it must) or lmdb (the engine's raft space, every round synced there)"
      )
    ),
    advertise: Options.text("advertise").pipe(
      Options.optional,
      Options.withDescription("address HOST:PORT other stores and clients use to reach this one (default: --addr)")
    ),
    ...makeSplitOptions({ split: "96MiB", max: "144MiB", interval: "10s" }),
    ...tlsFileOptions,
    tlsAllowedCn: tlsAllowedCnOption,
    peerAddresses: Options.text("peer-addresses").pipe(
      Options.withDefault(""),
      Options.withDescription(
        "dial these stores here instead of where the scheduler says, e.g. 2=127.0.0.1:7002,3=127.0.0.1:7003 (fault-injecting proxies)"
      )
    ),
    statusAddr: statusAddrOption,
    logFormat: logFormatOption
  },
  ({
    addr,
    data,
    standalone,
    scheduler,
    storeId,
    initialStores,
    advertise,
    raftEngine,
    gcLimit,
    gcThreshold,
    gcSizeLimit,
    tickMs,
    readPath,
    heartbeatIdle,
    noHibernateRegions,
    noLeaseReads,
    peerAddresses,
    statusAddr,
    logFormat,
    ...rest
  }) =>
    reportErrors(
      // loaded here, not at the top: other commands start without the status listener's code
      lazy(
        () => import("../../status/compose.js"),
        ({ withObservability, withStatus }) =>
          Effect.gen(function* () {
            // A store allocates steadily even idle (region reports, Raft check-ins) and V8, sized for its
            // default limit, then never gives old space back: at 2,000 idle regions 268–287 MiB per store,
            // 179–185 MiB with this (docs/PERFORMANCE.md, "Where the memory goes"). Unlike a hard
            // --max-old-space-size, it cannot turn a large data set into an out-of-memory crash.
            yield* Effect.sync(() => v8.setFlagsFromString("--heap-growing-percent=50"))
            const address = yield* checkAddress(addr)
            const tls = yield* tlsFromFlags(rest, rest.tlsAllowedCn)
            const tlsNote = tls === undefined ? "" : ", mutual TLS"
            const { host, port } = parseAddress(address)
            // loaded here, not at the top: other commands start without the store's code
            const { layerClusterStore } = yield* Effect.promise(() => import("../../layers/clusterStore.js"))
            const { layerStandaloneStore } = yield* Effect.promise(() => import("../../layers/standaloneStore.js"))
            const { layerStandaloneHealth } = yield* Effect.promise(() => import("../../layers/storeHealth.js"))
            const status = yield* statusAddress(statusAddr)
            const statusLine = Option.match(status, {
              onNone: () => [],
              onSome: (s) => [
                tls === undefined
                  ? `status on http://${s} (/metrics, /health, /ready)`
                  : `status on https://${s} (/metrics, /health, /ready; mutual TLS: a client certificate of the CA)`
              ]
            })
            if (standalone) {
              const banner = Layer.effectDiscard(
                Console.log(
                  [
                    `tinykv standalone store listening on ${address} (data in ${data}${tlsNote})`,
                    ...statusLine,
                    "try, in another shell:",
                    `  npx tinykv put hello world --store ${address}`,
                    `  npx tinykv get hello --store ${address}`,
                    "stop with Ctrl-C"
                  ].join("\n")
                )
              )
              const store = Layer.merge(layerStandaloneStore({ host, port, dataDir: data, tls }), layerStandaloneHealth)
              return yield* Layer.launch(
                Layer.provideMerge(banner, withStatus(store, status, "tinykv-store", undefined, tls))
              )
            }
            const schedulerAddress = yield* checkAddress(scheduler)
            const initial = parseIds(initialStores)
            if (initial === undefined) {
              return yield* Effect.fail(
                new UsageError(`--initial-stores "${initialStores}" is not a list of store ids`)
              )
            }
            if (gcLimit < 1 || gcThreshold < 1 || tickMs < 1) {
              return yield* Effect.fail(
                new UsageError("--raft-log-gc-limit, --raft-log-gc-threshold and --raft-tick-ms must be positive")
              )
            }
            const gcSizeBytes = parseByteSize(gcSizeLimit)
            if (gcSizeBytes === undefined || gcSizeBytes < 1) {
              return yield* Effect.fail(
                new UsageError(`--raft-log-gc-size-limit "${gcSizeLimit}" is not a positive size like 72MiB`)
              )
            }
            const peers = parsePeerAddresses(peerAddresses)
            if (peers instanceof UsageError) return yield* Effect.fail(peers)
            const { splitCheckMs, ...split } = yield* checkSplitSizes(rest)
            const splitCheckTicks = Math.max(1, Math.round(splitCheckMs / tickMs))
            const idle = parseDuration(heartbeatIdle)
            if (idle === undefined || Duration.toMillis(idle) <= 0) {
              return yield* Effect.fail(
                new UsageError(`--region-heartbeat-idle-interval "${heartbeatIdle}" is not a duration like 5s`)
              )
            }
            const regionHeartbeatIdleTicks = Math.max(
              defaultConfig.regionHeartbeatTicks,
              Math.round(Duration.toMillis(idle) / tickMs)
            )
            const id = Option.getOrUndefined(storeId)
            if (id !== undefined && id <= 0) return yield* Effect.fail(new UsageError("--store-id must be positive"))
            const store = layerClusterStore({
              host,
              port,
              advertise: Option.getOrUndefined(advertise),
              statusAddress: Option.getOrUndefined(status),
              dataDir: data,
              scheduler: schedulerAddress,
              storeId: id,
              initialStores: initial,
              peerAddresses: peers,
              raftEngine,
              config: {
                ...defaultConfig,
                raftLogGcCountLimit: gcLimit,
                raftLogGcThreshold: gcThreshold,
                raftLogGcSizeLimit: gcSizeBytes,
                baseTickMs: tickMs,
                ...split,
                splitCheckTicks,
                regionHeartbeatIdleTicks,
                readPath,
                leaseReads: !noLeaseReads,
                hibernateRegions: !noHibernateRegions,
                // the same 30 s whatever the tick
                hibernateCheckInTicks: Math.max(
                  1,
                  Math.round((defaultConfig.hibernateCheckInTicks * defaultConfig.baseTickMs) / tickMs)
                )
              },
              tls
            })
            const banner = Layer.effectDiscard(
              Console.log(
                [
                  `tinykv store listening on ${address} (scheduler ${schedulerAddress}, data in ${data}${tlsNote})`,
                  ...statusLine
                ].join("\n")
              )
            )
            return yield* Layer.launch(
              Layer.provideMerge(banner, withStatus(store, status, "tinykv-store", undefined, tls))
            )
          }).pipe(withObservability(logFormat, "tinykv-store"))
      )
    )
).pipe(
  Command.withDescription(
    "Run a store. Replicated by default (it joins the cluster of --scheduler); --standalone runs a single local store."
  )
)
