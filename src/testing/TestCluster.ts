/**
 * TestCluster: N replicated stores in one process (TinyKV `test_raftstore.Cluster` + `NodeSimulator`).
 *
 * Each store runs in its own scope on its own engine (memory, or lmdb in a temp dir), with the memory
 * transport (every message through the protocol codec, with fault filters) and one shared in-process
 * scheduler. Stopping a store closes its scope but keeps its engine: a restart is a crash recovery
 * from what was durable. Commands go straight to a store's Router, as TinyKV's harness does.
 *
 * Time comes from Effect's `Clock` (deadlines and retries included): live in `it.live` tests; under
 * `TestClock` the test drives it, and with `deterministic: true` a run replays exactly from its seed.
 *
 * Reads of a store's engine go through the running store's own `Storage` handle (an lmdb environment is
 * opened only for a stopped store). Faults are a list the cluster keeps; observers (`observe`) run after
 * them and survive `clearFilters`, so a test can count what was actually delivered.
 */
import { Effect, Exit, type Layer, Schedule, Scope } from "effect"
import { connectWith, type KvConnection } from "../client/promise.js"
import type { TinyKvClient } from "../client/TinyKvClient.js"
import type { MemoryEngine } from "../layers/storageMemory.js"
import { MemoryNetwork } from "../layers/transportMemory.js"
import * as Filters from "../layers/transportFilters.js"
import { compareBytes, utf8 } from "../protocol/bytes.js"
import type { RegionNotFound } from "../protocol/errorpb.js"
import type { RegionId, StoreId } from "../protocol/ids.js"
import type { Peer, Region } from "../protocol/metapb.js"
import { localKeyOf, physicalKey, physicalOfLocal } from "../protocol/keyspace.js"
import type { RaftCmdRequest, RaftCmdResponse, Request } from "../protocol/raftCmd.js"
import { type StoreConfig, testConfig } from "../raftstore/config.js"
import type { RaftStore } from "../layers/raftStore.js"
import type { Scheduler } from "../scheduler/service.js"
import type { Router } from "../services/Router.js"
import { type Cf, type EngineReader, isCf, type Space, Storage } from "../services/Storage.js"
import type { AfterDataTrap } from "./afterDataTrap.js"
import { type InProcessClientOptions, layerInProcessClient } from "./clusterClient.js"
import { ClusterRequestFailed, requestOn, scanRange } from "./clusterRequest.js"

export { ClusterRequestFailed } from "./clusterRequest.js"
import { SchedulerSlot } from "./schedulerSlot.js"
import { describeSlots, pollEngine } from "./clusterInspect.js"
import { makeSlot, type StoreSlot, startSlot, storeAddress } from "./storeSlot.js"

export interface TestClusterOptions {
  readonly stores: number
  readonly engine?: "memory" | "lmdb"
  readonly config?: Partial<StoreConfig>
  /** Seeds elections and drop decisions: same seed, same choices. */
  readonly seed?: number
  /**
   * For runs under `TestClock`: the RaftWorker yields with `Effect.yieldNow()` between rounds instead of a
   * `setImmediate` hop, so every step of the run goes through Effect's scheduler and replays in order.
   */
  readonly deterministic?: boolean
  /**
   * Memory engines keep what a disk would after a power loss (the state as of the last synced write), so
   * `crashStore` can drop every unsynced write: how a test proves nothing acknowledged depended on one.
   * `"broken"` makes every disk ignore fsync (nothing survives a crash): the simulator's self-test.
   */
  readonly modelSync?: boolean | "broken"
  /**
   * Each store keeps its raft space in a raft log of its own (`layers/storageRaftLogged.ts`) in front of its
   * engine, as `tinykv server --raft-engine log` does: a crash then cuts the log and the engine apart.
   */
  readonly raftLog?: boolean
}

/**
 * `TINYKV_TEST_RAFT_LOG=1` runs every TestCluster that does not choose with a raft log of its own: how the whole
 * raftstore suite is run against `layers/storageRaftLogged.ts`.
 */
const raftLogByDefault = process.env.TINYKV_TEST_RAFT_LOG === "1"

const bytes = (k: string | Uint8Array) => (typeof k === "string" ? utf8(k) : k)

/**
 * How long a request keeps retrying by default. TinyKV's `Request` makes at least 10 attempts of up to 5 s
 * each (~50 s); its unreliable scenarios stack a 10% drop filter every 0.5–0.7 s, so after 5 s more than
 * half of all messages are lost and an election can take several seconds (measured: outages of 10 s and
 * more at `RAFTSTORE_TEST_SECONDS=5`, with the group electing and committing again once loss eases).
 */
export const REQUEST_TIMEOUT_MS = 30_000

export class TestCluster {
  private constructor(
    readonly config: StoreConfig,
    readonly network: MemoryNetwork,
    private readonly schedulerSlot: SchedulerSlot,
    private readonly slots: ReadonlyArray<StoreSlot>,
    private readonly seed: number,
    /** Whether the cluster runs under the simulator's virtual time (`TestClusterOptions.deterministic`). */
    readonly deterministic: boolean
  ) {}

  /** Builds (not starts) a cluster; its resources are released with the enclosing scope. */
  static make(options: TestClusterOptions): Effect.Effect<TestCluster, unknown, Scope.Scope> {
    return Effect.gen(function* () {
      const seed = options.seed ?? 1
      const config = { ...testConfig, ...options.config }
      const network = yield* MemoryNetwork.make({ seed })
      const scheduler = yield* SchedulerSlot.make()
      const slots: Array<StoreSlot> = []
      for (let i = 1; i <= options.stores; i++)
        slots.push(
          yield* makeSlot(
            i as StoreId,
            options.engine ?? "memory",
            options.modelSync ?? false,
            options.raftLog ?? raftLogByDefault
          )
        )
      const cluster = new TestCluster(config, network, scheduler, slots, seed, options.deterministic ?? false)
      yield* Effect.addFinalizer(() => cluster.shutdown)
      return cluster
    })
  }

  /** Region heartbeats the stores sent for `regionId` so far. */
  regionReports(regionId: number): number {
    return this.schedulerSlot.regionReports.get(regionId) ?? 0
  }

  /** The scheduler instance running now (a restart replaces it). */
  get scheduler(): Scheduler["Type"] {
    return this.schedulerSlot.current
  }

  /**
   * Crashes the scheduler — what it had not synced is lost — and starts a new instance over its engine.
   * Calls the old instance had not answered fail with `SchedulerUnavailable`.
   */
  get restartScheduler(): Effect.Effect<void, unknown> {
    return this.schedulerSlot.restart
  }

  get storeIds(): ReadonlyArray<StoreId> {
    return this.slots.map((s) => s.id)
  }

  private slot(id: StoreId): StoreSlot {
    const s = this.slots.find((x) => x.id === id)
    if (s === undefined) throw new Error(`no store ${id}`)
    return s
  }

  /** Starts every store (the first start bootstraps the first region on all of them). */
  get start(): Effect.Effect<void, unknown> {
    return Effect.forEach(this.storeIds, (id) => this.startStore(id), { discard: true })
  }

  startStore(id: StoreId): Effect.Effect<void, unknown> {
    const self = this
    return Effect.gen(function* () {
      const slot = self.slot(id)
      if (slot.running !== undefined) return
      slot.running = yield* startSlot(slot, {
        network: self.network,
        schedulerClient: self.schedulerSlot.client(),
        initialStores: self.storeIds,
        config: self.config,
        seed: self.seed,
        deterministic: self.deterministic
      })
    })
  }

  /** Stops a store like a crash: its scope closes, unflushed nothing survives but what it wrote durably. */
  stopStore(id: StoreId): Effect.Effect<void> {
    const self = this
    return Effect.gen(function* () {
      const slot = self.slot(id)
      if (slot.running === undefined) return
      yield* self.network.unregister(id)
      // a write the trap held stops with its run
      slot.trap?.reset()
      const { scope, cutOff } = slot.running
      slot.running = undefined
      cutOff()
      yield* Scope.close(scope, Exit.void)
    })
  }

  /** Stops a store and cuts its power: every write since its last synced one is lost (needs `modelSync`). */
  crashStore(id: StoreId): Effect.Effect<void> {
    return Effect.zipRight(
      this.stopStore(id),
      Effect.sync(() => {
        const losePower = this.slot(id).losePower
        if (losePower === undefined) throw new Error("crashStore needs a TestCluster made with modelSync")
        losePower()
      })
    )
  }

  get shutdown(): Effect.Effect<void> {
    return Effect.forEach(this.storeIds, (id) => this.stopStore(id), { discard: true })
  }

  /** Store `id`'s after-data trap (`afterDataTrap.ts`): a TestCluster on memory engines with raft logs only. */
  afterDataTrap(id: StoreId): AfterDataTrap | undefined {
    return this.slot(id).trap
  }

  /** Wraps store `id`'s engine from its next start on (`undefined`: unwrapped), e.g. to fail its disk. */
  wrapStorage(id: StoreId, wrap: ((storage: Storage["Type"]) => Storage["Type"]) | undefined) {
    return Effect.sync(() => void (this.slot(id).wrapStorage = wrap))
  }

  /** Store `id`'s memory engine, running or not (a TestCluster on memory engines only). */
  memoryEngine(id: StoreId): MemoryEngine {
    const memory = this.slot(id).memory
    if (memory === undefined) throw new Error("this TestCluster does not run on memory engines")
    return memory
  }

  /**
   * Gives store `id`'s memory engine a "disk" of `bytes` (undefined: unlimited), at once and whether it runs
   * or not: client writes are refused once less than `reserveBytes` is left, every write past `bytes` fails
   * (see `MemoryEngine`). Raising the quota is how a test frees space.
   */
  setDiskQuota(id: StoreId, bytes: number | undefined, reserveBytes?: number) {
    return Effect.sync(() => this.memoryEngine(id).setQuota(bytes, reserveBytes))
  }

  store(id: StoreId): RaftStore | undefined {
    return this.slot(id).running?.store
  }

  // --- faults ---

  private faults: ReadonlyArray<Filters.Filter> = []
  private observers: ReadonlyArray<Filters.Filter> = []

  /** The network runs the faults, then the observers (which see only what got through). */
  private setFilters(faults: ReadonlyArray<Filters.Filter>) {
    return Effect.suspend(() => {
      this.faults = faults
      return Effect.zipRight(this.network.clearFilters(), this.network.addFilters(...this.faults, ...this.observers))
    })
  }

  /** Adds a fault after those already on (TinyKV `AddFilter`). */
  addFilter(filter: Filters.Filter) {
    return Effect.suspend(() => this.setFilters([...this.faults, filter]))
  }
  /** Messages between the two groups are dropped (both directions). */
  partition(a: ReadonlyArray<number>, b: ReadonlyArray<number>) {
    return this.addFilter(Filters.partition(a as Array<StoreId>, b as Array<StoreId>))
  }
  dropRate(p: number) {
    return this.addFilter(Filters.dropRate(p))
  }
  isolate(id: number) {
    return this.addFilter(Filters.isolate(id as StoreId))
  }
  /** Removes every fault (TinyKV `ClearFilters`); observers stay. */
  get clearFilters() {
    return this.setFilters([])
  }
  /** Watches every message that the faults let through, for the cluster's life (e.g. counting snapshots). */
  observe(f: (delivery: Filters.Delivery) => void) {
    return Effect.suspend(() => {
      this.observers = [...this.observers, Filters.hook((d) => void f(d))]
      return this.setFilters(this.faults)
    })
  }

  // --- routing ---

  /** The region containing `key` as the scheduler knows it (polls until it does, TinyKV `GetRegion`). */
  getRegion(key: Uint8Array): Effect.Effect<{ region: Region; leader: Peer | undefined }, ClusterRequestFailed> {
    const client = this.schedulerSlot.client()
    return client.getRegion(key).pipe(
      Effect.flatMap((r) => (r === undefined ? Effect.fail("none" as const) : Effect.succeed(r))),
      Effect.retry(Schedule.intersect(Schedule.recurs(100), Schedule.spaced("20 millis"))),
      Effect.catchAll(() => Effect.fail(new ClusterRequestFailed(`no region for key ${key}`)))
    )
  }

  /**
   * The peer currently leading `regionId`, as the stores themselves see it (not the scheduler's cache): of
   * several that believe they lead — a deposed leader cut off in a minority still does — the newest term's.
   */
  leaderOf(regionId: RegionId): Peer | undefined {
    let best: { meta: Peer; term: number } | undefined
    for (const s of this.slots) {
      const peer = s.running?.store.peers.get(regionId)
      if (peer?.isLeader && (best === undefined || peer.term > best.term)) best = { meta: peer.meta, term: peer.term }
    }
    return best?.meta
  }

  /**
   * Runs `requests` on the leader of the region holding `key`, retrying NotLeader, StaleCommand,
   * EpochNotMatch, RegionNotFound and timeouts until `timeoutMs` (TinyKV `Cluster.Request`). Returns the
   * response and the store that answered it: the one whose engine reflects the command.
   */
  requestOn(
    key: Uint8Array,
    requests: ReadonlyArray<Request>,
    timeoutMs = REQUEST_TIMEOUT_MS,
    send: (router: Router["Type"], command: RaftCmdRequest) => Effect.Effect<RaftCmdResponse, RegionNotFound> = (
      router,
      command
    ) => router.sendCommand(command)
  ) {
    return requestOn(this, key, requests, timeoutMs, send)
  }

  /** `requestOn`'s response alone. */
  request(key: Uint8Array, requests: ReadonlyArray<Request>, timeoutMs = REQUEST_TIMEOUT_MS) {
    return Effect.map(this.requestOn(key, requests, timeoutMs), (r) => r.response)
  }

  mustPut(key: string | Uint8Array, value: string | Uint8Array, cf: Cf = "default") {
    return Effect.asVoid(this.request(bytes(key), [{ _tag: "Put", cf, key: bytes(key), value: bytes(value) }]))
  }

  mustDelete(key: string | Uint8Array, cf: Cf = "default") {
    return Effect.asVoid(this.request(bytes(key), [{ _tag: "Delete", cf, key: bytes(key) }]))
  }

  /** A linearizable read through the log; `undefined` when absent. */
  get(key: string | Uint8Array, cf: Cf = "default") {
    return Effect.map(this.request(bytes(key), [{ _tag: "Get", cf, key: bytes(key) }]), (r) => {
      const g = r.responses[0]
      return g?._tag === "Get" ? g.value : undefined
    })
  }

  /** Every running store's view of every region it has a peer of, one line each (for failure messages). */
  describe(): string {
    return describeSlots(this.slots)
  }

  /** A linearizable read that must return `value` (TinyKV `MustGet`); fails with the value it saw otherwise. */
  mustGet(key: string | Uint8Array, value: string, cf: Cf = "default") {
    return Effect.flatMap(this.get(key, cf), (got) =>
      got !== undefined && compareBytes(got, utf8(value)) === 0
        ? Effect.void
        : Effect.fail(
            new ClusterRequestFailed(
              `get ${String(key)}: expected ${value}, got ${got === undefined ? "nothing" : "another value"}`
            )
          )
    )
  }

  /**
   * `[start, end)` of the raw key space's default CF as of a Snap applied on the leader (TinyKV
   * `Cluster.Scan`), region by region: each read from the engine snapshot taken in the round that applied
   * the Snap, which holds every write acknowledged before it and nothing that happened after.
   */
  scan(start: string | Uint8Array, end: string | Uint8Array) {
    return scanRange(this, bytes(start), bytes(end), REQUEST_TIMEOUT_MS)
  }

  /** The value of raw `key` in store `id`'s engine, whether it runs or not (`undefined` when absent). */
  engineGet(id: StoreId, key: string | Uint8Array, cf: Cf = "default") {
    return this.engineGetSpace(id, cf, physicalKey("raw", bytes(key)))
  }

  /** The engine of store `id` as a `Storage` layer (the same data whether the store runs or not). */
  storageLayer(id: StoreId): Layer.Layer<Storage, unknown> {
    return this.slot(id).storage
  }

  /** A raw value from store `id`'s `meta` space (apply state, region state, …). */
  engineMeta(id: StoreId, key: Uint8Array) {
    return this.engineGetSpace(id, "meta", key)
  }

  /** A raw value from any space of store `id`'s engine: through the running store's handle, else opened. */
  engineGetSpace(id: StoreId, space: Space, key: Uint8Array): Effect.Effect<Uint8Array | undefined, unknown> {
    const slot = this.slot(id)
    return slot.running !== undefined ? slot.running.storage.get(space, key) : slot.engineGetSpace(space, key)
  }

  /**
   * `[start, end)` of one space of store `id`'s engine (e.g. the raft log of a region); in a column family,
   * of the raw key space (`start`, `end` and the keys returned are raw user keys).
   */
  engineScan(id: StoreId, space: Space, start: Uint8Array, end: Uint8Array) {
    const slot = this.slot(id)
    const read = (s: Storage["Type"]) =>
      isCf(space)
        ? Effect.map(s.scan(space, physicalOfLocal("raw", { start, end })), (kvs) =>
            kvs.map((kv) => ({ key: localKeyOf(kv.key), value: kv.value }))
          )
        : s.scan(space, { start, end })
    return slot.running !== undefined
      ? read(slot.running.storage)
      : Effect.scoped(Effect.flatMap(Storage, read).pipe(Effect.provide(slot.storage)))
  }

  /** A snapshot reader of running store `id`'s engine, open until the scope closes (`undefined`: stopped). */
  engineSnapshot(id: StoreId): Effect.Effect<EngineReader, unknown, Scope.Scope> | undefined {
    return this.slot(id).running?.storage.snapshot
  }

  /** Polls store `id`'s engine until `key` holds `value` (or is absent, for `undefined`), up to `timeoutMs`. */
  mustEngineHave(
    id: StoreId,
    key: string | Uint8Array,
    value: string | undefined,
    cf: Cf = "default",
    timeoutMs = 6_000
  ) {
    return pollEngine(id, key, value, timeoutMs, () => this.engineGet(id, key, cf))
  }

  /**
   * The real `TinyKvClient` over this cluster, in process (no sockets): application code written against
   * the client runs unchanged while the test partitions the network and stops stores. See `clusterClient.ts`.
   */
  clientLayer(options: InProcessClientOptions = {}): Layer.Layer<TinyKvClient> {
    const slots = this.slots
    return layerInProcessClient(
      {
        schedulerClient: this.schedulerSlot.client(),
        commandTimeoutMs: this.config.commandTimeoutMs,
        runningAt: (address) => {
          const running = slots.find((s) => storeAddress(s.id) === address)?.running
          return running === undefined
            ? undefined
            : { router: running.store.router, storage: running.storage, scope: running.scope }
        }
      },
      options
    )
  }

  /** The Promise facade (`connect`) over `clientLayer`, for code that does not use Effect. */
  connect(options: InProcessClientOptions = {}): Promise<KvConnection> {
    return connectWith(this.clientLayer(options))
  }
}
