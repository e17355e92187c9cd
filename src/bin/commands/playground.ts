/**
 * `tinykv playground`: a local cluster on loopback — a scheduler and N stores as child processes —
 * that waits until a write succeeds, prints the addresses, and stops every child on Ctrl-C/SIGTERM.
 * Each child writes its log to `<data>/logs/<name>.log`. The cluster itself is `src/process`.
 */
import { join } from "node:path"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { parseDuration } from "../../cli/ctlDuration.js"
import { lazy, reportErrors, UsageError } from "./common.js"
import { logFormatOption } from "./observability.js"
import { scheduleOptions } from "./scheduler.js"
import { checkSplitSizes, makeSplitOptions } from "./server.js"
import type { ClusterTls } from "../../process/index.js"
import { tlsFileOptions, tlsFromFlags } from "./tlsOptions.js"

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
  logFormat: logFormatOption,
  ...makeSplitOptions({ split: "256KiB", max: "384KiB", interval: "2s" }),
  tls: Options.boolean("tls").pipe(
    Options.withDescription(
      "mutual TLS on every link, with a throwaway CA and certificates made by the system's openssl in --data/tls"
    )
  ),
  ...tlsFileOptions
}

/** The files given with --tls-ca/--tls-cert/--tls-key serve every process and the clients. */
const sharedTls = (files: { ca: string; cert: string; key: string }, stores: number): ClusterTls => {
  const names = ["scheduler", "client", ...Array.from({ length: stores }, (_, i) => `store-${i + 1}`)]
  return { ca: files.ca, certificates: new Map(names.map((n) => [n, { cert: files.cert, key: files.key }])) }
}

/** Where `put`, `get` and `ctl` look for the scheduler without `--scheduler`. */
const DEFAULT_SCHEDULER = "127.0.0.1:2379"

/** How a client command reaches this cluster: the TLS flags, when there is TLS. */
const clientFlags = (tls: ClusterTls | undefined): string => {
  const client = tls?.certificates.get("client")
  return tls === undefined || client === undefined
    ? ""
    : ` --tls-ca ${tls.ca} --tls-cert ${client.cert} --tls-key ${client.key}`
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
    logFormat,
    tls,
    ...rest
  }) =>
    reportErrors(
      // loaded here, not at the top: other commands start without the status listener's code
      lazy(
        () => import("../../status/compose.js"),
        ({ withObservability }) =>
          Effect.gen(function* () {
            if (stores < 1 || stores > 9) return yield* Effect.fail(new UsageError("--stores must be between 1 and 9"))
            if (parseDuration(maxStoreDownTime) === undefined) {
              return yield* Effect.fail(
                new UsageError(`--max-store-down-time "${maxStoreDownTime}" is not a duration like 30s`)
              )
            }
            const files = yield* tlsFromFlags(rest)
            if (tls && files !== undefined) {
              return yield* Effect.fail(
                new UsageError("--tls makes its own certificates: give it or the TLS files, not both")
              )
            }
            const clusterTls = tls ? ("generate" as const) : files === undefined ? undefined : sharedTls(files, stores)
            const split = yield* checkSplitSizes(rest)
            // loaded here, not at the top: other commands start without the process supervisor's code
            const { CertificateError, describeExit, startLocalCluster } = yield* Effect.promise(
              () => import("../../process/index.js")
            )
            const logs = join(data, "logs")
            const seeLogs = (message: string) => new UsageError(`${message}; see the logs in ${logs}`)
            yield* Console.log(
              `starting a scheduler and ${stores} store(s)${tls ? ` (making TLS certificates in ${join(data, "tls")})` : ""}…`
            )
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
              storeArgs: [
                "--region-split-size",
                String(split.regionSplitSize),
                "--region-max-size",
                String(split.regionMaxSize),
                "--split-check-interval",
                rest.splitCheckInterval,
                ...Option.match(logFormat, { onNone: () => [], onSome: (f) => ["--log-format", f] })
              ],
              schedulerArgs: [
                "--max-replicas",
                String(maxReplicas),
                "--max-store-down-time",
                maxStoreDownTime,
                ...Option.match(logFormat, { onNone: () => [], onSome: (f) => ["--log-format", f] })
              ],
              onExit: (name, status) => Console.error(`playground: ${name} exited (${describeExit(status)})`),
              tls: clusterTls
            }).pipe(
              Effect.mapError((e) => (e instanceof CertificateError ? new UsageError(e.message) : seeLogs(e.message)))
            )
            yield* cluster
              .waitUntilWritable("60 seconds")
              .pipe(Effect.mapError(() => seeLogs("the cluster did not accept a write within 60 s")))
            // a client's own default is the default scheduler port: name the scheduler when it is elsewhere
            const target = cluster.scheduler === DEFAULT_SCHEDULER ? "" : ` --scheduler ${cluster.scheduler}`
            const flags = `${target}${clientFlags(cluster.tls)}`
            const client = cluster.tls?.certificates.get("client")
            // with TLS the status listeners are HTTPS and want a client certificate too
            const web = cluster.tls === undefined ? "http" : "https"
            yield* Console.log(
              [
                "tinykv playground is up:",
                `  scheduler  ${cluster.scheduler}    status ${web}://${cluster.schedulerStatus}`,
                ...cluster.stores.map((s) => `  store ${s.id}    ${s.address}  status ${web}://${s.statusAddress}`),
                `  dashboard  ${web}://${cluster.schedulerStatus}/dashboard`,
                `  metrics    ${web}://${cluster.schedulerStatus}/metrics (each process has /metrics, /health, /ready)`,
                `  data/logs  ${data}`,
                ...(cluster.tls === undefined || client === undefined
                  ? []
                  : [
                      "  TLS        mutual TLS on every link, status ports included; clients need the CA, a certificate and its key:",
                      `    --tls-ca ${cluster.tls.ca} --tls-cert ${client.cert} --tls-key ${client.key}`,
                      `    (or TINYKV_TLS_CA=${cluster.tls.ca} TINYKV_TLS_CERT=${client.cert} TINYKV_TLS_KEY=${client.key})`,
                      `    curl --cacert ${cluster.tls.ca} --cert ${client.cert} --key ${client.key} https://${cluster.schedulerStatus}/metrics`
                    ]),
                "try, in another shell:",
                `  npx tinykv put hello world${flags}`,
                `  npx tinykv get hello${flags}`,
                `  npx tinykv ctl health${flags}`,
                "stop with Ctrl-C"
              ].join("\n")
            )
            return yield* Effect.never
          }).pipe(Effect.scoped, withObservability(logFormat, "tinykv-playground"))
      )
    )
).pipe(Command.withDescription("Run a local cluster: a scheduler and N stores on loopback, until Ctrl-C."))
