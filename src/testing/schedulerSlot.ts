/**
 * The scheduler of a TestCluster, restartable like a process: its engine (a memory engine that models
 * fsync) outlives each instance, and `restart` is a crash — every write the instance had not synced is
 * lost — followed by a fresh instance that loads what was durable.
 *
 * Everything in the cluster reaches the scheduler through this slot, never through an instance kept
 * aside: `current` for tests and admin helpers, `client()` for stores and clients. A call is fenced by
 * the generation it started in: once a restart has happened, the old instance can no longer write its
 * engine, and an answer it computes is replaced by `SchedulerUnavailable`, as a dead process's would
 * never arrive. Without the fence, an old instance could hand out a timestamp from its window after the
 * new one started, which breaks the timestamps' order in a way no real crash can.
 */
import { Effect } from "effect"
import { makeClientLocal } from "../layers/schedulerClientLocal.js"
import { layerMemoryFrom, MemoryEngine } from "../layers/storageMemory.js"
import { StorageError } from "../protocol/errorpb.js"
import { makeScheduler, type Scheduler } from "../scheduler/service.js"
import { type SchedulerClient, SchedulerUnavailable } from "../services/SchedulerClient.js"
import { Storage } from "../services/Storage.js"

/** What a store registers as the scheduler's address; only messages name it. */
const ADDRESS = "in-process scheduler"

export class SchedulerSlot {
  private generation = 0
  /** Restarts so far. */
  restarts = 0

  private constructor(
    private readonly engine: MemoryEngine,
    private readonly wrap: (storage: Storage["Type"]) => Storage["Type"],
    private instance: Scheduler["Type"]
  ) {}

  /**
   * `wrapStorage` wraps every instance's engine (fault injection: a write that waits); the fence that
   * stops a restarted instance's writes sits under it, next to the engine.
   */
  static make(
    options: { readonly wrapStorage?: (storage: Storage["Type"]) => Storage["Type"] } = {}
  ): Effect.Effect<SchedulerSlot, StorageError> {
    const engine = new MemoryEngine({ modelSync: true })
    const wrap = options.wrapStorage ?? ((storage) => storage)
    // NB: the first instance is fenced like every later one: it is generation 0
    let slot: SchedulerSlot | undefined
    return Effect.map(
      SchedulerSlot.start(engine, wrap, () => slot === undefined || slot.generation === 0),
      (instance) => (slot = new SchedulerSlot(engine, wrap, instance))
    )
  }

  /** A scheduler over `engine` whose writes fail once `live()` turns false (its process is gone). */
  private static start(
    engine: MemoryEngine,
    wrap: (storage: Storage["Type"]) => Storage["Type"],
    live: () => boolean
  ): Effect.Effect<Scheduler["Type"], StorageError> {
    return Effect.gen(function* () {
      const storage = yield* Effect.provide(Storage, layerMemoryFrom(engine))
      const fenced = Storage.of({
        ...storage,
        // suspended: liveness is checked when the write runs, not when it is built
        write: (ops, options) =>
          Effect.suspend(() =>
            live()
              ? storage.write(ops, options)
              : Effect.fail(new StorageError({ message: "the scheduler process is gone (restarted)" }))
          )
      })
      return yield* makeScheduler().pipe(Effect.provideService(Storage, wrap(fenced)))
    })
  }

  /** The running instance (tests and admin helpers call it directly). */
  get current(): Scheduler["Type"] {
    return this.instance
  }

  /** A crash of the scheduler and a new instance over what it had synced. */
  get restart(): Effect.Effect<void, StorageError> {
    return Effect.suspend(() => {
      const generation = ++this.generation
      this.restarts++
      this.engine.crash()
      return Effect.map(
        SchedulerSlot.start(this.engine, this.wrap, () => this.generation === generation),
        (instance) => void (this.instance = instance)
      )
    })
  }

  /**
   * A `SchedulerClient` that always calls the instance running when the call starts, and answers
   * `SchedulerUnavailable` when that instance was restarted before it answered.
   */
  /** Region heartbeats sent through `client()`, by region id, since the slot was made (tests count them). */
  readonly regionReports = new Map<number, number>()

  client(): SchedulerClient["Type"] {
    const fence = <A, E>(call: (client: SchedulerClient["Type"]) => Effect.Effect<A, E>) =>
      Effect.suspend(() => {
        const generation = this.generation
        // NB: a failure is replaced too: the old instance's own error (its write refused) is not what a
        // client of a dead process sees
        return Effect.flatMap(
          Effect.exit(call(makeClientLocal(this.instance))),
          (exit): Effect.Effect<A, E | SchedulerUnavailable> =>
            this.generation === generation
              ? exit
              : Effect.fail(
                  new SchedulerUnavailable({ address: ADDRESS, message: "the scheduler restarted before it answered" })
                )
        )
      })
    return {
      bootstrap: (store, region) => fence((c) => c.bootstrap(store, region)),
      isBootstrapped: fence((c) => c.isBootstrapped),
      allocId: fence((c) => c.allocId),
      putStore: (store) => fence((c) => c.putStore(store)),
      getStore: (storeId) => fence((c) => c.getStore(storeId)),
      getAllStores: (options) => fence((c) => c.getAllStores(options)),
      storeHeartbeat: (stats) => fence((c) => c.storeHeartbeat(stats)),
      regionHeartbeat: (hb) => {
        this.regionReports.set(hb.region.id, (this.regionReports.get(hb.region.id) ?? 0) + 1)
        return fence((c) => c.regionHeartbeat(hb))
      },
      getRegion: (key) => fence((c) => c.getRegion(key)),
      getRegionById: (regionId) => fence((c) => c.getRegionById(regionId)),
      scanRegions: (startKey, endKey, limit) => fence((c) => c.scanRegions(startKey, endKey, limit)),
      askSplit: (region) => fence((c) => c.askSplit(region)),
      reportSplit: (left, right) => fence((c) => c.reportSplit(left, right)),
      tso: (count) => fence((c) => c.tso(count))
    }
  }
}
