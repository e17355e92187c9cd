/**
 * One store of a TestCluster: its engine, which outlives the store's runs (a restart is a crash recovery
 * from what was durable), and how a run starts — the engine, the memory transport and the shared
 * scheduler as layers under the raftstore, all in one scope that stopping the store closes.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Duration, Effect, Layer, Scope } from "effect"
import { type RaftStore, startRaftStore } from "../layers/raftStore.js"
import { layerLmdb } from "../layers/storageLmdb.js"
import { layerMemoryFrom, MemoryEngine, memoryStorage } from "../layers/storageMemory.js"
import { layerRaftLogged, raftLogged } from "../layers/storageRaftLogged.js"
import { layerTransportMemory, type MemoryNetwork } from "../layers/transportMemory.js"
import type { StoreId } from "../protocol/ids.js"
import { MemoryLogDisk } from "../raftlog/memoryLog.js"
import { AfterDataTrap } from "./afterDataTrap.js"
import { SegmentedLog } from "../raftlog/segmentedLog.js"
import type { StoreConfig } from "../raftstore/config.js"
import { RoundYield } from "../raftstore/store.js"
import { SchedulerClient } from "../services/SchedulerClient.js"
import { type Cf, type Space, Storage } from "../services/Storage.js"

export interface RunningStore {
  readonly scope: Scope.CloseableScope
  readonly store: RaftStore
  readonly storage: Storage["Type"]
  /**
   * Cuts this run off its engine: no write it makes from now on lands (the writer is interrupted), as a killed
   * process's would not.
   * Stopping a store does this first. Without it a round still in flight (waiting out a slow or stalled disk)
   * finished its write after the store had stopped, and even after the next run had started on the same engine:
   * a dead run's applies landed over the live one's (the simulator found it, seed 114 of shard 3).
   */
  readonly cutOff: () => void
}

export interface StoreSlot {
  readonly id: StoreId
  readonly storage: Layer.Layer<Storage, unknown>
  /** Reads the store's engine directly, running or not (TinyKV's `MustGetCf` on engines). */
  readonly engineGet: (cf: Cf, key: Uint8Array) => Effect.Effect<Uint8Array | undefined, unknown>
  readonly engineGetSpace: (space: Space, key: Uint8Array) => Effect.Effect<Uint8Array | undefined, unknown>
  /** The memory engine (absent for lmdb): tests size its "disk" with `setQuota`. */
  readonly memory?: MemoryEngine
  /** The memory twin of its raft log, when it has one of its own (`TestClusterOptions.raftLog`). */
  readonly log?: MemoryLogDisk
  /** With the memory twin: the trap that can hold a write in its after-data window (`afterDataTrap.ts`). */
  readonly trap?: AfterDataTrap
  /** Power loss on a stopped store: drops every write since the last synced one (memory engines with `modelSync`). */
  readonly losePower?: () => void
  running: RunningStore | undefined
  /** Wraps the engine the next runs see (fault injection: a disk that fails from some write on). */
  wrapStorage?: ((storage: Storage["Type"]) => Storage["Type"]) | undefined
}

/** How long a store with a raft log of its own takes between a write's data and its `afterData` log ops. */
const AFTER_DATA_WINDOW = Duration.millis(25)

/** A slot whose engine lives as long as the enclosing scope (an lmdb one in a temp dir removed then). */
export const makeSlot = (
  id: StoreId,
  engine: "memory" | "lmdb",
  modelSync: boolean | "broken" = false,
  raftLog = false
): Effect.Effect<StoreSlot, never, Scope.Scope> =>
  Effect.gen(function* () {
    if (engine === "lmdb") {
      const dir = mkdtempSync(join(tmpdir(), `tinykv-cluster-s${id}-`))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const layer = raftLog
        ? layerRaftLogged(
            () => SegmentedLog.openDevice(join(dir, "raftlog"), { segmentBytes: 256 * 1024 }),
            layerLmdb(join(dir, "engine"))
          )
        : layerLmdb(dir)
      const read = (space: Space, key: Uint8Array) =>
        Effect.scoped(Effect.flatMap(Storage, (s) => s.get(space, key)).pipe(Effect.provide(layer)))
      return { id, storage: layer, engineGet: read, engineGetSpace: read, running: undefined }
    }
    const memory = new MemoryEngine({ modelSync: modelSync !== false, brokenSync: modelSync === "broken" })
    // the log's "disk": every append is durable (a broken disk's fsync is the engine's alone)
    const logged = raftLog
      ? { log: new MemoryLogDisk(64 * 1024), trap: new AfterDataTrap(AFTER_DATA_WINDOW) }
      : undefined
    const read = (space: Space, key: Uint8Array) =>
      logged !== undefined && space === "raft"
        ? Effect.sync(() => raftLogged(memoryStorage(memory), logged.log.peek()).latest.get(space, key))
        : Effect.sync(() => memory.get(space, key))
    const slot: StoreSlot = {
      id,
      memory,
      ...logged,
      storage:
        logged === undefined
          ? layerMemoryFrom(memory)
          : layerRaftLogged(() => logged.log.open(), layerMemoryFrom(memory), {
              checkpointMinBytes: 256 * 1024,
              // a window a crash can land in, between a write's data and the log ops that must follow it (the
              // simulator's clock is virtual: it costs its runs no wall time)
              beforeAfterData: logged.trap.beforeAfterData
            }),
      engineGet: read,
      engineGetSpace: read,
      running: undefined
    }
    return modelSync !== false ? { ...slot, losePower: () => memory.crash() } : slot
  })

/** The address a TestCluster store registers with the scheduler (what the in-process client dials). */
export const storeAddress = (id: StoreId): string => `memory://store-${id}`

export interface StartOptions {
  readonly network: MemoryNetwork
  /** The cluster's scheduler, as this store reaches it. */
  readonly schedulerClient: SchedulerClient["Type"]
  readonly initialStores: ReadonlyArray<StoreId>
  readonly config: StoreConfig
  readonly seed: number
  /** The RaftWorker yields with `Effect.yieldNow()` (see `RoundYield`). */
  readonly deterministic: boolean
}

/** Starts the slot's store in a scope of its own and connects it to the network. */
export const startSlot = (slot: StoreSlot, options: StartOptions): Effect.Effect<RunningStore, unknown> =>
  Effect.gen(function* () {
    const id = slot.id
    const scope = yield* Scope.make()
    const wrap = slot.wrapStorage
    let cut = false
    // the cut-off check sits next to the engine: a wrapped (slow) write checks it when it lands, not when it starts
    const storage = Layer.map(slot.storage, (c) => {
      const fenced = cutOffWhen(Context.get(c, Storage), () => cut)
      return Context.add(c, Storage, wrap === undefined ? fenced : wrap(fenced))
    })
    const layer = Layer.mergeAll(
      storage,
      layerTransportMemory(options.network, id),
      Layer.succeed(SchedulerClient, options.schedulerClient)
    )
    const ctx = yield* Layer.buildWithScope(layer, scope)
    const started = startRaftStore({
      storeId: id,
      address: storeAddress(id),
      initialStores: options.initialStores,
      config: options.config,
      seed: options.seed * 7919 + id
    }).pipe(Effect.provide(ctx), Scope.extend(scope))
    const store = yield* options.deterministic ? Effect.provideService(started, RoundYield, Effect.yieldNow()) : started
    yield* options.network.register(id, store.router.sendRaftMessage)
    const cutOff = () => {
      cut = true
      // the last part of a write in flight, appended after its data, never lands either
      slot.log?.cut()
    }
    return { scope, store, storage: Context.get(ctx, Storage), cutOff }
  })

/**
 * `storage`, whose writes never land once `isCut()` holds: the writer is interrupted there, as a killed process
 * stops mid-write (its round then ends as an interrupted one, not as a failed disk).
 */
const cutOffWhen = (storage: Storage["Type"], isCut: () => boolean): Storage["Type"] => ({
  ...storage,
  write: (ops, options) => Effect.suspend(() => (isCut() ? Effect.interrupt : storage.write(ops, options)))
})
