/**
 * `tinykv playground`: a local cluster on loopback — a scheduler and N stores as child processes —
 * that waits until a write succeeds, prints the addresses, and stops every child on Ctrl-C/SIGTERM.
 * Each child writes its log to `<data>/logs/<name>.log`. The cluster itself is `src/process`.
 */
import { join } from "node:path"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { describeExit, startLocalCluster } from "../../process/index.js"
import { parseDuration } from "../../cli/ctlDuration.js"
import { reportErrors, UsageError } from "./common.js"
import { withObservability } from "../../status/compose.js"
import { logFormatOption } from "./observability.js"
import { scheduleOptions } from "./scheduler.js"

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
  statusPort: Options.integer("status-port").pipe(
    Options.withDefault(2381),
    Options.withDescription("port of the scheduler's status listener and dashboard")
  ),
  statusBasePort: Options.integer("status-base-port").pipe(
    Options.withDefault(20180),
    Options.withDescription("store i's status listener (/metrics, /health, /ready) is on status-base-port + i - 1")
  ),
  maxReplicas: scheduleOptions.maxReplicas,
  maxStoreDownTime: scheduleOptions.maxStoreDownTime,
  logFormat: logFormatOption
}

export const playground = Command.make(
  "playground",
  options,
  ({
    stores,
    data,
    host,
    schedulerPort,
    basePort,
    statusPort,
    statusBasePort,
    maxReplicas,
    maxStoreDownTime,
    logFormat
  }) =>
    reportErrors(
      Effect.gen(function* () {
        if (stores < 1 || stores > 9) return yield* Effect.fail(new UsageError("--stores must be between 1 and 9"))
        if (parseDuration(maxStoreDownTime) === undefined) {
          return yield* Effect.fail(
            new UsageError(`--max-store-down-time "${maxStoreDownTime}" is not a duration like 30s`)
          )
        }
        const logs = join(data, "logs")
        const seeLogs = (message: string) => new UsageError(`${message}; see the logs in ${logs}`)
        yield* Console.log(`starting a scheduler and ${stores} store(s)…`)
        const cluster = yield* startLocalCluster({
          stores,
          host,
          schedulerPort,
          basePort,
          statusPort,
          statusBasePort,
          dataDir: data,
          logDir: logs,
          // the children's own default (not a terminal: json) unless a format is asked for
          storeArgs: Option.match(logFormat, { onNone: () => [], onSome: (f) => ["--log-format", f] }),
          schedulerArgs: [
            "--max-replicas",
            String(maxReplicas),
            "--max-store-down-time",
            maxStoreDownTime,
            ...Option.match(logFormat, { onNone: () => [], onSome: (f) => ["--log-format", f] })
          ],
          onExit: (name, status) => Console.error(`playground: ${name} exited (${describeExit(status)})`)
        }).pipe(Effect.mapError((e) => seeLogs(e.message)))
        yield* cluster
          .waitUntilWritable("60 seconds")
          .pipe(Effect.mapError(() => seeLogs("the cluster did not accept a write within 60 s")))
        yield* Console.log(
          [
            "tinykv playground is up:",
            `  scheduler  ${cluster.scheduler}    status http://${cluster.schedulerStatus}`,
            ...cluster.stores.map((s) => `  store ${s.id}    ${s.address}  status http://${s.statusAddress}`),
            `  dashboard  http://${cluster.schedulerStatus}/dashboard`,
            `  metrics    http://${cluster.schedulerStatus}/metrics (each process has /metrics, /health, /ready)`,
            `  data/logs  ${data}`,
            "try, in another shell:",
            "  npx tinykv put hello world",
            "  npx tinykv get hello",
            "stop with Ctrl-C"
          ].join("\n")
        )
        return yield* Effect.never
      }).pipe(Effect.scoped, withObservability(logFormat, "tinykv-playground"))
    )
).pipe(Command.withDescription("Run a local cluster: a scheduler and N stores on loopback, until Ctrl-C."))
