/**
 * A scheduler and N stores as real `tinykv` processes on loopback, for crash tests: a Promise facade over
 * `startLocalCluster` (src/process), whose scope `cleanup` closes.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Exit, Scope } from "effect"
import { ChildNotReady, type LocalCluster, startLocalCluster } from "../../src/process/index.js"

export interface ProcessCluster {
  readonly scheduler: string
  /** The scheduler's status listener (`/metrics`, `/health`, `/ready`, `/dashboard`). */
  readonly schedulerStatus: string
  readonly stores: ReadonlyArray<{ readonly id: number; readonly address: string; readonly statusAddress: string }>
  /** Starts (or restarts) store `id` with the same data directory and flags. */
  readonly startStore: (id: number) => Promise<void>
  readonly startScheduler: () => Promise<void>
  /** `kill -9` of one store (no shutdown, no flush). */
  readonly killStore: (id: number) => Promise<void>
  readonly killAll: () => Promise<void>
  readonly output: (name: string) => string
  readonly cleanup: () => Promise<void>
}

/** Runs `effect`; a child that did not come up fails with what it printed. */
const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(
    effect.pipe(
      Effect.mapError((e) => (e instanceof ChildNotReady ? new Error(`${e.message}; its output:\n${e.output}`) : e))
    )
  )

export const startProcessCluster = async (options: {
  readonly stores: number
  readonly extraStoreArgs?: ReadonlyArray<string>
  readonly schedulerArgs?: ReadonlyArray<string>
  readonly extraSchedulerArgs?: ReadonlyArray<string>
}): Promise<ProcessCluster> => {
  const scope = Effect.runSync(Scope.make())
  let cluster: LocalCluster
  try {
    cluster = await run(
      startLocalCluster({
        stores: options.stores,
        storeArgs: options.extraStoreArgs,
        schedulerArgs: [...(options.schedulerArgs ?? []), ...(options.extraSchedulerArgs ?? [])],
        keepOutput: true,
        readyTimeout: "20 seconds"
      }).pipe(Scope.extend(scope), Effect.provide(NodeContext.layer))
    )
  } catch (e) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  }
  return {
    scheduler: cluster.scheduler,
    schedulerStatus: cluster.schedulerStatus,
    stores: cluster.stores,
    startStore: (id) => run(cluster.startStore(id)),
    startScheduler: () => run(cluster.startScheduler),
    killStore: (id) => run(cluster.killStore(id)),
    killAll: () => run(cluster.killAll),
    output: (name) => Effect.runSync(cluster.output(name)),
    // kill -9 first: a test's cluster need not shut down cleanly, and that is faster
    cleanup: () => run(Effect.zipRight(cluster.killAll, Scope.close(scope, Exit.void)))
  }
}
