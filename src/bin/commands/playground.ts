/**
 * `tinykv playground`: a local cluster on loopback — a scheduler and N stores as child processes —
 * that waits until a write succeeds, prints the addresses, and stops every child on Ctrl-C/SIGTERM.
 * Each child writes its log to `<data>/logs/<name>.log`. The cluster itself is `src/process`.
 */
import { join } from "node:path"
import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { parseDuration } from "../../cli/ctlDuration.js"
import { reportErrors, UsageError } from "./common.js"
import { scheduleOptions } from "./scheduler.js"
import { checkSplitSizes, makeSplitOptions } from "./server.js"

const options = {
  stores: Options.integer("stores").pipe(Options.withDefault(3), Options.withDescription("number of stores (1-9)")),
  data: Options.text("data").pipe(
    Options.withDefault("./data"),
    Options.withDescription("directory for every process's data and logs")
  ),
  host: Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("loopback address")),
  schedulerPort: Options.integer("scheduler-port").pipe(
    Options.withDefault(2379),
    Options.withDescription("port of the scheduler")
  ),
  basePort: Options.integer("base-port").pipe(
    Options.withDefault(20160),
    Options.withDescription("store i listens on base-port + i - 1")
  ),
  maxReplicas: scheduleOptions.maxReplicas,
  maxStoreDownTime: scheduleOptions.maxStoreDownTime,
  ...makeSplitOptions({ split: "256KiB", max: "384KiB", interval: "2s" })
}

export const playground = Command.make(
  "playground",
  options,
  ({ stores, data, host, schedulerPort, basePort, maxReplicas, maxStoreDownTime, ...sizes }) =>
    reportErrors(
      Effect.gen(function* () {
        if (stores < 1 || stores > 9) return yield* Effect.fail(new UsageError("--stores must be between 1 and 9"))
        if (parseDuration(maxStoreDownTime) === undefined) {
          return yield* Effect.fail(
            new UsageError(`--max-store-down-time "${maxStoreDownTime}" is not a duration like 30s`)
          )
        }
        const split = yield* checkSplitSizes(sizes)
        // loaded here, not at the top: other commands start without the process supervisor's code
        const { describeExit, startLocalCluster } = yield* Effect.promise(() => import("../../process/index.js"))
        const logs = join(data, "logs")
        const seeLogs = (message: string) => new UsageError(`${message}; see the logs in ${logs}`)
        yield* Console.log(`starting a scheduler and ${stores} store(s)…`)
        const cluster = yield* startLocalCluster({
          stores,
          host,
          schedulerPort,
          basePort,
          dataDir: data,
          logDir: logs,
          storeArgs: [
            "--region-split-size",
            String(split.regionSplitSize),
            "--region-max-size",
            String(split.regionMaxSize),
            "--split-check-interval",
            sizes.splitCheckInterval
          ],
          schedulerArgs: ["--max-replicas", String(maxReplicas), "--max-store-down-time", maxStoreDownTime],
          onExit: (name, status) => Console.error(`playground: ${name} exited (${describeExit(status)})`)
        }).pipe(Effect.mapError((e) => seeLogs(e.message)))
        yield* cluster
          .waitUntilWritable("60 seconds")
          .pipe(Effect.mapError(() => seeLogs("the cluster did not accept a write within 60 s")))
        yield* Console.log(
          [
            "tinykv playground is up:",
            `  scheduler  ${cluster.scheduler}`,
            ...cluster.stores.map((s) => `  store ${s.id}    ${s.address}`),
            `  data/logs  ${data}`,
            "try, in another shell:",
            "  npx tinykv put hello world",
            "  npx tinykv get hello",
            "stop with Ctrl-C"
          ].join("\n")
        )
        return yield* Effect.never
      }).pipe(Effect.scoped)
    )
).pipe(Command.withDescription("Run a local cluster: a scheduler and N stores on loopback, until Ctrl-C."))
