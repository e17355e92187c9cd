/**
 * A local cluster of real processes on loopback: a `tinykv scheduler` and N `tinykv server` children,
 * as a scoped resource. It is ready once every child listens (see `waitUntilWritable` for "serves");
 * closing the scope stops every child (SIGTERM, then SIGKILL after a grace period) and removes the data
 * directory if the cluster made it. `tinykv playground`, the process tests and the cluster benchmark
 * all start clusters through this.
 */
import { join } from "node:path"
import type { CommandExecutor } from "@effect/platform"
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { type Duration, Effect, Exit, Ref, Scope } from "effect"
import { type Child, type ExitStatus, startChild } from "./child.js"
import type { ChildNotReady, ClusterNotWritable } from "./errors.js"
import { type CertificateError, makeLocalCertificates } from "./certificates.js"
import {
  type ClusterLayout,
  type ClusterTls,
  makeLayout,
  type StoreLayout,
  schedulerArgs,
  storeArgs
} from "./layout.js"
import { freePort } from "./ports.js"
import { waitUntilWritable } from "./readiness.js"

export interface LocalClusterOptions {
  readonly stores: number
  /** Default 127.0.0.1. */
  readonly host?: string | undefined
  /** Default: a free port. */
  readonly schedulerPort?: number | undefined
  /** Store i listens on `basePort + i - 1`; default: a free port for each store. */
  readonly basePort?: number | undefined
  /** The scheduler's status listener (and dashboard); default: a free port. */
  readonly statusPort?: number | undefined
  /** Store i's status listener is on `statusBasePort + i - 1`; default: a free port for each store. */
  readonly statusBasePort?: number | undefined
  /** Holds `scheduler/` and `store-<id>/`; default: a temporary directory, removed when the scope closes. */
  readonly dataDir?: string | undefined
  /** Each child appends its output to `<logDir>/<name>.log`; default: no log files. */
  readonly logDir?: string | undefined
  /** Keep every child's whole output in memory for `output` (tests look for log lines). Default false. */
  readonly keepOutput?: boolean | undefined
  /** Extra flags for every store. */
  readonly storeArgs?: ReadonlyArray<string> | undefined
  /** Extra flags for one store, after `storeArgs` (e.g. where it dials each peer). */
  readonly storeArgsFor?: ((store: StoreLayout, layout: ClusterLayout) => ReadonlyArray<string>) | undefined
  /** Extra flags for the scheduler (`--max-replicas`, `--max-store-down-time`, `--schedule-interval`). */
  readonly schedulerArgs?: ReadonlyArray<string> | undefined
  /** How long each child may take to listen (default 30 s). */
  readonly readyTimeout?: Duration.DurationInput | undefined
  /** How long a stopping child may take after SIGTERM before SIGKILL (default 5 s). */
  readonly stopGrace?: Duration.DurationInput | undefined
  /** Called when a child exits that nobody asked to stop. */
  readonly onExit?: ((name: string, status: ExitStatus) => Effect.Effect<void>) | undefined
  /**
   * Mutual TLS on every link: these files, or `"generate"` for a throwaway CA and one certificate per
   * process (and one for clients, `client`) made with the system's openssl in `<dataDir>/tls`.
   */
  readonly tls?: ClusterTls | "generate" | undefined
}

export interface LocalCluster {
  /** `HOST:PORT` of the scheduler. */
  readonly scheduler: string
  /** `HOST:PORT` of the scheduler's status listener; the dashboard is at `/dashboard`. */
  readonly schedulerStatus: string
  readonly stores: ReadonlyArray<StoreLayout>
  readonly dataDir: string
  /** (Re)starts the scheduler with the same address and data; waits until it listens. */
  readonly startScheduler: Effect.Effect<void, ChildNotReady>
  /** (Re)starts store `id` with the same address, data and flags; waits until it listens. */
  readonly startStore: (id: number) => Effect.Effect<void, ChildNotReady>
  /** Stops one process (`scheduler` or `store-<id>`) as the scope's close would. */
  readonly stop: (name: string) => Effect.Effect<void>
  /** Sends `signal` (default SIGKILL: no shutdown, no flush) to one process and waits until it is gone. */
  readonly kill: (name: string, signal?: CommandExecutor.Signal) => Effect.Effect<void>
  /**
   * Sends `signal` to one process and returns at once: for `SIGSTOP` / `SIGCONT`, which pause and resume it
   * (a process that is not running is left alone).
   */
  readonly signal: (name: string, signal: "SIGSTOP" | "SIGCONT") => Effect.Effect<void>
  /** `kill -9` of store `id`. */
  readonly killStore: (id: number) => Effect.Effect<void>
  /** `kill -9` of every process at once. */
  readonly killAll: Effect.Effect<void>
  /** What the current (or last) incarnation of a process printed; see `keepOutput`. */
  readonly output: (name: string) => Effect.Effect<string>
  /** Waits until a write through the scheduler succeeds. */
  readonly waitUntilWritable: (timeout: Duration.DurationInput) => Effect.Effect<void, ClusterNotWritable>
  /** The cluster's TLS files, when it runs TLS; clients use `certificates.get("client")`. */
  readonly tls: ClusterTls | undefined
}

interface Running {
  readonly child: Child | undefined
  readonly scope: Scope.CloseableScope
}

const layoutOf = (options: LocalClusterOptions, dataDir: string, tls: ClusterTls | undefined) =>
  Effect.gen(function* () {
    const schedulerPort = options.schedulerPort ?? (yield* freePort)
    const ports = (base: number | undefined) =>
      Effect.forEach(
        Array.from({ length: options.stores }, (_, i) => i),
        (i) => (base === undefined ? freePort : Effect.succeed(base + i))
      )
    const storePorts = yield* ports(options.basePort)
    const storeStatusPorts = yield* ports(options.statusBasePort)
    const schedulerStatusPort = options.statusPort ?? (yield* freePort)
    return makeLayout({
      host: options.host ?? "127.0.0.1",
      schedulerPort,
      schedulerStatusPort,
      storePorts,
      storeStatusPorts,
      dataDir,
      storeArgs: options.storeArgs ?? [],
      schedulerArgs: options.schedulerArgs,
      tls
    })
  })

/** Starts the scheduler, then every store at once; the scope's close stops them all. */
export const startLocalCluster = (
  options: LocalClusterOptions
): Effect.Effect<
  LocalCluster,
  ChildNotReady | PlatformError | CertificateError | Error,
  CommandExecutor.CommandExecutor | FileSystem.FileSystem | Scope.Scope
> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const context = yield* Effect.context<CommandExecutor.CommandExecutor | FileSystem.FileSystem>()
    const dataDir = options.dataDir ?? (yield* fs.makeTempDirectoryScoped({ prefix: "tinykv-cluster-" }))
    yield* fs.makeDirectory(dataDir, { recursive: true })
    if (options.logDir !== undefined) yield* fs.makeDirectory(options.logDir, { recursive: true })
    const tls: ClusterTls | undefined =
      options.tls === "generate"
        ? yield* Effect.map(
            makeLocalCertificates({
              dir: join(dataDir, "tls"),
              names: ["scheduler", ...Array.from({ length: options.stores }, (_, i) => `store-${i + 1}`), "client"],
              hosts: [...new Set([options.host ?? "127.0.0.1", "127.0.0.1", "localhost"])]
            }),
            (certs): ClusterTls => ({ ca: certs.ca, certificates: certs.members })
          )
        : options.tls
    const layout: ClusterLayout = yield* layoutOf(options, dataDir, tls)
    const clientTls = tls === undefined ? undefined : { ca: tls.ca, ...tls.certificates.get("client")! }
    const processes = yield* Ref.make(new Map<string, Running>())

    // Each incarnation of a process lives in its own scope, so one can be stopped and started again;
    // this finalizer (added after the temporary directory's) stops them all before the directory goes.
    yield* Effect.addFinalizer(() =>
      Ref.get(processes).pipe(
        Effect.flatMap((all) =>
          Effect.forEach(all.values(), (p) => Scope.close(p.scope, Exit.void), {
            concurrency: "unbounded",
            discard: true
          })
        )
      )
    )

    const current = (name: string) => Effect.map(Ref.get(processes), (all) => all.get(name))
    const stop = (name: string) =>
      Effect.flatMap(current(name), (p) => (p === undefined ? Effect.void : Scope.close(p.scope, Exit.void)))
    const start = (name: string, args: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        yield* stop(name)
        const scope = yield* Scope.make()
        yield* Ref.update(processes, (all) => new Map(all).set(name, { child: undefined, scope }))
        const child = yield* startChild({
          name,
          args,
          ready: /listening/,
          readyTimeout: options.readyTimeout ?? "30 seconds",
          logFile: options.logDir === undefined ? undefined : join(options.logDir, `${name}.log`),
          keepOutput: options.keepOutput ?? false,
          stopGrace: options.stopGrace ?? "5 seconds",
          onExit: options.onExit && ((status) => options.onExit!(name, status))
        }).pipe(
          Scope.extend(scope),
          Effect.provide(context),
          // a child that did not come up is stopped now, not when the cluster closes
          Effect.onError(() => Scope.close(scope, Exit.void))
        )
        yield* Ref.update(processes, (all) => new Map(all).set(name, { child, scope }))
      })
    const kill = (name: string, signal: CommandExecutor.Signal = "SIGKILL") =>
      Effect.flatMap(current(name), (p) => (p?.child === undefined ? Effect.void : p.child.kill(signal)))
    const storeNamed = (id: number) => {
      const store = layout.stores[id - 1]
      return store === undefined ? Effect.dieMessage(`no store ${id} in this cluster`) : Effect.succeed(store)
    }

    const cluster: LocalCluster = {
      scheduler: layout.scheduler,
      schedulerStatus: layout.schedulerStatus,
      stores: layout.stores,
      dataDir,
      startScheduler: start("scheduler", schedulerArgs(layout)),
      startStore: (id) =>
        Effect.flatMap(storeNamed(id), (s) =>
          start(s.name, [...storeArgs(layout, s), ...(options.storeArgsFor?.(s, layout) ?? [])])
        ),
      stop,
      kill,
      signal: (name, signal) =>
        Effect.flatMap(current(name), (p) =>
          p?.child === undefined
            ? Effect.void
            : Effect.whenEffect(
                Effect.try(() => process.kill(p.child!.pid, signal)).pipe(Effect.ignore),
                p.child.isRunning
              )
        ),
      killStore: (id) => Effect.flatMap(storeNamed(id), (s) => kill(s.name)),
      killAll: Effect.flatMap(Ref.get(processes), (all) =>
        Effect.forEach(all.keys(), (name) => kill(name), { concurrency: "unbounded", discard: true })
      ),
      output: (name) =>
        Effect.flatMap(current(name), (p) => (p?.child === undefined ? Effect.succeed("") : p.child.output)),
      waitUntilWritable: (timeout) => waitUntilWritable(layout.scheduler, timeout, clientTls),
      tls
    }
    yield* cluster.startScheduler
    yield* Effect.forEach(layout.stores, (s) => cluster.startStore(s.id), { concurrency: "unbounded", discard: true })
    return cluster
  })
