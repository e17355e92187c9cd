/**
 * A fake cluster for the cluster client's tests: real TCP stores serving `TinyKvRpcs`, but no Raft.
 *
 * The test owns a `Topology`: the truth (which regions exist, their epochs and leaders) and,
 * separately, the scheduler's possibly stale view of it. Each fake store checks a request's
 * `context` against the truth the way a raftstore does (RegionNotFound, StoreNotMatch,
 * EpochNotMatch, NotLeader, KeyNotInRegion), answers injected faults first, then serves it with the
 * real raw and transaction handlers over ONE engine shared by all stores (replication is not what
 * is tested here), reading only inside the request's region.
 */
import { SocketServer } from "@effect/platform/SocketServer"
import { createServer, type AddressInfo } from "node:net"
import { Context, Effect, Layer, type Scope } from "effect"
import { type ClusterRoutingOptions, makeClusterRouting } from "../../../src/client/cluster/clusterClient.js"
import { inRange, utf8 } from "../../../src/protocol/bytes.js"
import { clampToRange, inKeyRange, localRange } from "../../../src/protocol/keyspace.js"
import {
  EpochNotMatch,
  InvalidArgument,
  KeyNotInRegion,
  type KvError,
  NotLeader,
  RegionNotFound,
  StoreNotMatch
} from "../../../src/protocol/errorpb.js"
import { type RegionId, regionId, type StoreId, storeId, peerId } from "../../../src/protocol/ids.js"
import type { Context as RequestContext } from "../../../src/protocol/kvrpc.js"
import type { Peer, Region } from "../../../src/protocol/metapb.js"
import { SchedulerError } from "../../../src/protocol/scheduler.js"
import { TinyKvRpcs } from "../../../src/protocol/rpcs.js"
import { layerStandalone } from "../../../src/layers/kvStorageStandalone.js"
import { layerMemory } from "../../../src/layers/storageMemory.js"
import { layerTsoLocal } from "../../../src/layers/tsoLocal.js"
import { makeRawHandlers } from "../../../src/server/rawHandlers.js"
import { layerRpcServer, layerSocketServer } from "../../../src/server/serve.js"
import { KvStorage, type KvReader } from "../../../src/services/KvStorage.js"
import type { SchedulerClient } from "../../../src/services/SchedulerClient.js"
import { Tso } from "../../../src/services/Tso.js"
import { makeTxnHandlers } from "../../../src/transaction/handlers.js"

const bytes = (k: string | Uint8Array) => (typeof k === "string" ? utf8(k) : k)

/** Peer ids are `regionId * 10 + storeId`, so a test can name them. */
export const peerOf = (region: number, store: number): Peer => ({
  id: peerId(region * 10 + store),
  storeId: storeId(store)
})

export const makeRegion = (
  id: number,
  start: string | Uint8Array,
  end: string | Uint8Array,
  stores: ReadonlyArray<number>,
  epoch: { version?: number; confVer?: number } = {}
): Region => ({
  id: regionId(id),
  startKey: bytes(start),
  endKey: bytes(end),
  regionEpoch: { version: epoch.version ?? 1, confVer: epoch.confVer ?? 1 },
  peers: stores.map((s) => peerOf(id, s))
})

export interface Fault {
  readonly store?: number
  readonly method?: string
  /** How many matching requests get `error` (default 1); `Infinity` for all of them. */
  times: number
  /** The answer in place of the request's own; `"silence"`: no answer at all (a lost reply). */
  readonly error: KvError | "silence"
  /**
   * Serve the request first (a write applies), then answer `error`: an answer given after the command
   * was proposed, or a reply lost on the way back.
   */
  readonly afterServing?: boolean
}

export interface Call {
  readonly store: number
  readonly method: string
  readonly context: RequestContext | undefined
}

export class Topology {
  /** The truth the stores check requests against. */
  readonly regions = new Map<RegionId, { region: Region; leader: StoreId | undefined }>()
  /** What the scheduler answers (may lag the truth). */
  readonly schedulerView = new Map<RegionId, { region: Region; leader: Peer | undefined }>()
  readonly addresses = new Map<StoreId, string>()
  /** Stores the scheduler reports as tombstones. */
  readonly removed = new Set<number>()
  /** An address the scheduler answers once for a store before its real one (a store that moved). */
  readonly staleAddress = new Map<number, string>()
  /** Stores that take requests but never answer (a hung or partitioned store). */
  readonly silent = new Set<number>()
  readonly faults: Array<Fault> = []
  readonly calls: Array<Call> = []
  readonly schedulerCalls = { getRegion: 0, getStore: 0 }

  /** Sets a region in the truth and in the scheduler's view. */
  setRegion(region: Region, leader: number | undefined): void {
    this.setTruth(region, leader)
    this.schedulerView.set(region.id, {
      region,
      leader: leader === undefined ? undefined : region.peers.find((p) => p.storeId === leader)
    })
  }

  /** Changes the truth only: the scheduler has not heard of it yet. */
  setTruth(region: Region, leader: number | undefined): void {
    this.regions.set(region.id, { region, leader: leader === undefined ? undefined : storeId(leader) })
  }

  /** Splits region `id` at `key` in the truth only; the right half becomes region `newId` (same stores). */
  split(id: number, key: string, newId: number): void {
    const entry = this.regions.get(regionId(id))!
    const old = entry.region
    const version = old.regionEpoch.version + 1
    const stores = old.peers.map((p) => p.storeId)
    const epoch = { version, confVer: old.regionEpoch.confVer }
    this.setTruth(makeRegion(id, old.startKey, key, stores, epoch), entry.leader)
    this.setTruth(makeRegion(newId, key, old.endKey, stores, epoch), entry.leader)
  }

  addFault(fault: Omit<Fault, "times"> & { times?: number }): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 })
  }

  callsTo(method: string): ReadonlyArray<Call> {
    return this.calls.filter((c) => c.method === method)
  }

  takeFault(store: number, method: string): Fault | undefined {
    const f = this.faults.find(
      (f) => f.times > 0 && (f.store === undefined || f.store === store) && (f.method ?? method) === method
    )
    if (f === undefined) return undefined
    f.times--
    return f
  }
}

/** The region checks a raftstore makes, on the truth. */
const check = (
  t: Topology,
  store: number,
  context: RequestContext | undefined,
  keys: ReadonlyArray<Uint8Array>
): KvError | undefined => {
  if (context === undefined) return new InvalidArgument({ message: "a cluster store needs the request context" })
  // in a raftstore's order: the store, the region, leadership, then the epoch
  if (context.peer.storeId !== store) {
    return new StoreNotMatch({ requestStoreId: context.peer.storeId, actualStoreId: store })
  }
  const entry = t.regions.get(context.regionId)
  if (entry === undefined || !entry.region.peers.some((p) => p.storeId === store)) {
    return new RegionNotFound({ regionId: context.regionId })
  }
  const { region, leader } = entry
  if (leader !== store) {
    const hint = leader === undefined ? undefined : region.peers.find((p) => p.storeId === leader)
    return new NotLeader({ regionId: region.id, ...(hint ? { leader: hint } : {}) })
  }
  const epoch = region.regionEpoch
  if (context.regionEpoch.version !== epoch.version || context.regionEpoch.confVer !== epoch.confVer) {
    const hosted = [...t.regions.values()].map((e) => e.region).filter((r) => r.peers.some((p) => p.storeId === store))
    return new EpochNotMatch({ currentRegions: hosted })
  }
  const outside = keys.find((k) => !inRange(k, region.startKey, region.endKey))
  if (outside !== undefined) {
    return new KeyNotInRegion({ key: outside, regionId: region.id, startKey: region.startKey, endKey: region.endKey })
  }
  return undefined
}

/**
 * The shared engine seen through one region, like the raft reader: reads stop at the region's bounds,
 * translated into the key space's keys of each CF (`protocol/keyspace.ts`: MVCC keys compare with the
 * encoded bounds).
 */
const regionView = (t: Topology, base: KvStorage["Type"]): KvStorage["Type"] => ({
  write: base.write,
  reader: (context, space) =>
    Effect.map(base.reader(context, space), (reader): KvReader => {
      const region = context === undefined ? undefined : t.regions.get(context.regionId)?.region
      if (region === undefined) return reader
      return {
        getCF: (cf, key) => (inKeyRange(key, localRange(region, space, cf)) ? reader.getCF(cf, key) : undefined),
        iterCF: (cf, start, end) => {
          const r = clampToRange(localRange(region, space, cf), start, end)
          return reader.iterCF(cf, r.start, r.end)
        }
      }
    })
})

export interface Shared {
  readonly storage: KvStorage["Type"]
  readonly tso: Tso["Type"]
}

/** The engine and timestamp oracle every fake store (and the fake scheduler) shares. */
export const makeShared: Effect.Effect<Shared, never, Scope.Scope> = Effect.gen(function* () {
  const ctx = yield* Layer.build(Layer.merge(layerStandalone, layerTsoLocal).pipe(Layer.provide(layerMemory)))
  return { storage: Context.get(ctx, KvStorage), tso: Context.get(ctx, Tso) }
})

const handlersFor = (t: Topology, store: number, shared: Shared) =>
  TinyKvRpcs.toLayer(
    Effect.gen(function* () {
      const raw = yield* Effect.provideService(makeRawHandlers, KvStorage, regionView(t, shared.storage))
      const txn = yield* Effect.provideService(makeTxnHandlers, KvStorage, regionView(t, shared.storage))
      const guarded =
        <Req extends { readonly context?: RequestContext | undefined }, A>(
          method: string,
          keysOf: (req: Req) => ReadonlyArray<Uint8Array>,
          handler: (req: Req) => Effect.Effect<A, KvError>
        ) =>
        (req: Req): Effect.Effect<A, KvError> =>
          Effect.suspend(() => {
            t.calls.push({ store, method, context: req.context })
            if (t.silent.has(store)) return Effect.never
            const fault = t.takeFault(store, method)
            const answer = (e: KvError | "silence") => (e === "silence" ? Effect.never : Effect.fail(e))
            if (fault?.afterServing === true) return Effect.zipRight(handler(req), answer(fault.error))
            if (fault !== undefined) return answer(fault.error)
            const error = check(t, store, req.context, keysOf(req))
            return error === undefined ? handler(req) : Effect.fail(error)
          })
      const notHere = Effect.fail(new InvalidArgument({ message: "a fake store takes no Raft messages" }))
      return {
        RawGet: guarded("RawGet", (r) => [r.key], raw.RawGet),
        RawPut: guarded("RawPut", (r) => [r.key], raw.RawPut),
        RawDelete: guarded("RawDelete", (r) => [r.key], raw.RawDelete),
        RawScan: guarded("RawScan", (r) => [r.startKey], raw.RawScan),
        RawBatchGet: guarded("RawBatchGet", (r) => r.keys, raw.RawBatchGet),
        RawBatchPut: guarded("RawBatchPut", (r) => r.pairs.map((p) => p.key), raw.RawBatchPut),
        RawBatchDelete: guarded("RawBatchDelete", (r) => r.keys, raw.RawBatchDelete),
        RawDeleteRange: guarded("RawDeleteRange", (r) => [r.startKey], raw.RawDeleteRange),
        KvGet: guarded("KvGet", (r) => [r.key], txn.KvGet),
        KvScan: guarded("KvScan", (r) => [r.startKey], txn.KvScan),
        KvPrewrite: guarded("KvPrewrite", (r) => r.mutations.map((m) => m.key), txn.KvPrewrite),
        KvCommit: guarded("KvCommit", (r) => r.keys, txn.KvCommit),
        KvCheckTxnStatus: guarded("KvCheckTxnStatus", (r) => [r.primaryKey], txn.KvCheckTxnStatus),
        KvBatchRollback: guarded("KvBatchRollback", (r) => r.keys, txn.KvBatchRollback),
        KvResolveLock: guarded("KvResolveLock", () => [], txn.KvResolveLock),
        Raft: () => notHere,
        Snapshot: () => notHere,
        Tso: ({ count }) => Effect.map(Effect.orDie(shared.tso.next(count)), (timestamp) => ({ count, timestamp }))
      }
    })
  )

export interface FakeStore {
  readonly id: number
  readonly address: string
}

/** Serves store `id` on a free loopback port for the scope and registers its address. */
export const startFakeStore = (
  t: Topology,
  id: number,
  shared: Shared
): Effect.Effect<FakeStore, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const layer = layerRpcServer(handlersFor(t, id, shared)).pipe(
      Layer.provideMerge(layerSocketServer({ host: "127.0.0.1", port: 0 }))
    )
    const ctx = yield* Layer.build(layer)
    const bound = Context.get(ctx, SocketServer).address
    if (bound._tag !== "TcpAddress") return yield* Effect.die("expected a TCP address")
    const address = `127.0.0.1:${bound.port}`
    t.addresses.set(storeId(id), address)
    return { id, address }
  })

/** An address nothing listens on (a store that is down): connecting is refused. */
export const deadAddress: Effect.Effect<string> = Effect.promise(
  () =>
    new Promise<string>((resolve) => {
      const server = createServer()
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        server.close(() => resolve(`127.0.0.1:${port}`))
      })
    })
)

/** An in-memory scheduler client answering from `t.schedulerView` and `t.addresses` (timestamps from `shared`). */
export const fakeScheduler = (t: Topology, shared?: Shared): SchedulerClient["Type"] => {
  const unsupported = (name: string) => Effect.die(new Error(`the fake scheduler has no ${name}`))
  return {
    bootstrap: () => unsupported("bootstrap"),
    isBootstrapped: Effect.succeed(true),
    allocId: unsupported("allocId"),
    putStore: () => unsupported("putStore"),
    getStore: (id) =>
      Effect.suspend(() => {
        t.schedulerCalls.getStore++
        const stale = t.staleAddress.get(id)
        t.staleAddress.delete(id)
        const address = stale ?? t.addresses.get(id)
        return address === undefined
          ? Effect.fail(new SchedulerError({ type: "STORE_NOT_FOUND", message: `store ${id} not found` }))
          : Effect.succeed({ id, address, state: t.removed.has(id) ? ("Tombstone" as const) : ("Up" as const) })
      }),
    getAllStores: () => unsupported("getAllStores"),
    storeHeartbeat: () => unsupported("storeHeartbeat"),
    regionHeartbeat: () => unsupported("regionHeartbeat"),
    getRegion: (key) =>
      Effect.sync(() => {
        t.schedulerCalls.getRegion++
        return [...t.schedulerView.values()].find((e) => inRange(key, e.region.startKey, e.region.endKey))
      }),
    getRegionById: (id) => Effect.sync(() => t.schedulerView.get(id)),
    scanRegions: () => unsupported("scanRegions"),
    askSplit: () => unsupported("askSplit"),
    reportSplit: () => unsupported("reportSplit"),
    tso: (count) => (shared === undefined ? unsupported("tso") : Effect.orDie(shared.tso.next(count)))
  }
}

/**
 * Starts fake stores `stores` and a cluster client over the fake scheduler. The attempt timeout is
 * generous: a put that times out is not retried, and a loaded machine can be slow to connect.
 */
export const setupFakeCluster = (
  t: Topology,
  stores: ReadonlyArray<number>,
  options: Partial<ClusterRoutingOptions> = {}
) =>
  Effect.gen(function* () {
    const shared = yield* makeShared
    const fakes = new Map<number, FakeStore>()
    for (const id of stores) fakes.set(id, yield* startFakeStore(t, id, shared))
    const routing = yield* makeClusterRouting(fakeScheduler(t, shared), {
      scheduler: "fake-scheduler",
      timeout: "2 seconds",
      ...options
    })
    return { ...routing, kv: routing.raw, stores: fakes }
  })
