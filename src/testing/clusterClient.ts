/**
 * The real cluster client (`TinyKvClient`: region cache, leader routing, retries, transactions) over a
 * `TestCluster`'s in-process stores — no sockets. A user's own code, written against `TinyKvClient`, runs
 * unchanged against a whole cluster whose network the test partitions and whose stores it crashes, and
 * under `TestClock` it is as deterministic as the cluster.
 *
 * Each store is reached through its own RPC handlers (`TinyKvRpcs`, the ones a `tinykv server` serves)
 * built over that store's Router, one set per run of the store whatever client calls: a request takes the
 * same path from the handler on as over TCP. A store
 * that is stopped answers `StoreUnavailable`, as an unreachable store does (marked `unsent`: the request
 * went nowhere; a store stopped during a call leaves its outcome unknown, as a dropped socket does); after
 * a restart the next call reaches the new instance.
 */
import { RpcTest } from "@effect/rpc"
import { Cause, Duration, Effect, Layer, Scope } from "effect"
import { makeClusterClientWith } from "../client/cluster/clusterClient.js"
import { TinyKvClient } from "../client/TinyKvClient.js"
import { layerKvStorageRaft } from "../layers/kvStorageRaft.js"
import { layerTsoScheduler } from "../layers/tsoScheduler.js"
import { TinyKvRpcs } from "../protocol/rpcs.js"
import { RequestTimeout, StoreUnavailable } from "../rpc/errors.js"
import { callBound } from "../rpc/callDeadline.js"
import type { StoreConnection, TinyKvRpcClient } from "../rpc/storeConnection.js"
import { layerHandlersWith } from "../server/handlers.js"
import { makeRaftHandlers } from "../server/raftHandlers.js"
import { Router } from "../services/Router.js"
import { SchedulerClient } from "../services/SchedulerClient.js"
import { Storage } from "../services/Storage.js"

/** A running store: its Router, its engine and the scope it lives in (which names the run). */
export interface Instance {
  readonly router: Router["Type"]
  readonly storage: Storage["Type"]
  readonly scope: Scope.Scope
}

/** What the client needs of a cluster: its scheduler, and the store running at an address, if any. */
export interface InProcessCluster {
  readonly schedulerClient: SchedulerClient["Type"]
  /** The running instance at `address` (its Router and the scope it lives in), or undefined when stopped. */
  readonly runningAt: (address: string) => Instance | undefined
  /** How long a store takes at most to apply a command (the raft KvStorage's deadline). */
  readonly commandTimeoutMs: number
}

export interface InProcessClientOptions {
  /** Deadline of one attempt (one call to one store; default 2 s). */
  readonly timeout?: Duration.DurationInput
  /** Deadline of a whole operation, retries included (default 10 s). */
  readonly deadline?: Duration.DurationInput
}

/** The store's handlers, served to an in-memory RPC client that lives as long as the store instance. */
const rpcClientFor = (cluster: InProcessCluster, instance: Instance): Effect.Effect<TinyKvRpcClient> => {
  const handlers = layerHandlersWith(makeRaftHandlers(instance.router.sendRaftMessage)).pipe(
    Layer.provide(layerKvStorageRaft({ commandTimeoutMs: cluster.commandTimeoutMs })),
    Layer.provide(layerTsoScheduler),
    Layer.provide(Layer.succeed(Router, instance.router)),
    Layer.provide(Layer.succeed(Storage, instance.storage)),
    Layer.provide(Layer.succeed(SchedulerClient, cluster.schedulerClient))
  )
  const client = Effect.flatMap(Layer.build(handlers), (context) =>
    Effect.provide(RpcTest.makeClient(TinyKvRpcs), context)
  )
  // the handlers and the client close with the store instance, not with the caller; the in-memory client has
  // no transport errors, so it is a connection's client with none of them
  return Scope.extend(client, instance.scope) satisfies Effect.Effect<unknown> as Effect.Effect<TinyKvRpcClient>
}

/**
 * The handlers of each store run, by the run's scope: shared by every connection of every in-process
 * client, as one `tinykv server` process serves all its clients with one set. It must be one set: the
 * transaction handlers' latches are what serialize the read-decide-write of two commands on one key, and
 * two sets for one store let two prewrites both miss each other's lock (a lost update). Made under a lock,
 * so two first calls cannot make two.
 */
const served = new WeakMap<Scope.Scope, Effect.Effect<TinyKvRpcClient>>()
const serving = Effect.unsafeMakeSemaphore(1)

const servedBy = (cluster: InProcessCluster, instance: Instance): Effect.Effect<TinyKvRpcClient> =>
  Effect.flatten(
    serving.withPermits(1)(
      Effect.suspend(() => {
        const known = served.get(instance.scope)
        if (known !== undefined) return Effect.succeed(known)
        return Effect.tap(Effect.cached(rpcClientFor(cluster, instance)), (cached) =>
          Effect.sync(() => served.set(instance.scope, cached))
        )
      })
    )
  )

/** A `StoreConnection` to whatever instance runs at `address` when a call is made. */
const inProcessConnection = (
  cluster: InProcessCluster,
  address: string,
  timeout: Duration.Duration
): StoreConnection => {
  const clientOf = (instance: Instance) => servedBy(cluster, instance)
  return {
    address,
    call: (method, f, deadline) => {
      const timeoutMs = Duration.toMillis(timeout)
      const attempt = Effect.clockWith((clock): Effect.Effect<unknown, unknown> => {
        const bound = callBound(timeoutMs, deadline, clock.unsafeCurrentTimeMillis())
        const instance = cluster.runningAt(address)
        if (instance === undefined) {
          // nothing was sent: as a connection that is down refuses the request (`rpc/dial.ts`)
          return Effect.fail(new StoreUnavailable({ address, message: "the store is stopped", unsent: true }))
        }
        const call: Effect.Effect<unknown, unknown> = Effect.flatMap(clientOf(instance), f)
        return call.pipe(
          // a store stopped mid-call closes its RPC client, which ends the call with an interruption: to the
          // caller that is an unreachable store, as a dropped socket is (its own interruption is not caught)
          Effect.catchAllCause(
            (cause): Effect.Effect<never, unknown> =>
              Cause.isInterruptedOnly(cause)
                ? Effect.fail(new StoreUnavailable({ address, message: "the store stopped during the call" }))
                : Effect.failCause(cause)
          ),
          Effect.timeoutFail({
            duration: bound.ms,
            onTimeout: bound.onPassed ?? (() => new RequestTimeout({ address, method, timeoutMs }))
          })
        )
      })
      // the in-memory RPC client has no transport errors: what fails is the store's typed error, or the above
      return attempt as never
    }
  }
}

/** The `TinyKvClient` service over `cluster`; its connections close with the scope. */
export const makeInProcessClient = (
  cluster: InProcessCluster,
  options: InProcessClientOptions = {}
): Effect.Effect<TinyKvClient["Type"], never, Scope.Scope> => {
  const timeout = Duration.decode(options.timeout ?? "2 seconds")
  return makeClusterClientWith(cluster.schedulerClient, {
    scheduler: "in-process",
    timeout,
    ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
    connect: (address) => Effect.succeed(inProcessConnection(cluster, address, timeout))
  })
}

/** `makeInProcessClient` as a layer. */
export const layerInProcessClient = (
  cluster: InProcessCluster,
  options: InProcessClientOptions = {}
): Layer.Layer<TinyKvClient> => Layer.scoped(TinyKvClient, makeInProcessClient(cluster, options))
