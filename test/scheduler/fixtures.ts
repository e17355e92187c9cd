/** Builders for scheduler tests: regions, stores, heartbeats and a fresh pure core. */
import { Either } from "effect"
import { utf8 } from "../../src/protocol/bytes.js"
import { type PeerId, peerId, type RegionId, regionId, type StoreId, storeId } from "../../src/protocol/ids.js"
import type { Peer, Region, Store } from "../../src/protocol/metapb.js"
import type { SchedulerError, StoreStats } from "../../src/protocol/scheduler.js"
import { SchedulerCore } from "../../src/scheduler/core.js"
import type { Result } from "../../src/scheduler/errors.js"
import { emptyState } from "../../src/scheduler/persist.js"

export const key = (s: string): Uint8Array => utf8(s)

export const peer = (id: number, store: number): Peer => ({ id: peerId(id), storeId: storeId(store) })

export const region = (
  id: number,
  start: string | Uint8Array,
  end: string | Uint8Array,
  opts: { peers?: ReadonlyArray<Peer>; confVer?: number; version?: number } = {}
): Region => ({
  id: regionId(id),
  startKey: typeof start === "string" ? key(start) : start,
  endKey: typeof end === "string" ? key(end) : end,
  regionEpoch: { confVer: opts.confVer ?? 1, version: opts.version ?? 1 },
  peers: opts.peers ?? [peer(id * 10 + 1, 1)]
})

export const withEpoch = (r: Region, confVer: number, version: number): Region => ({
  ...r,
  regionEpoch: { confVer, version }
})

export const store = (id: number, address = `127.0.0.1:${20160 + id}`): Store => ({
  id: storeId(id),
  address,
  state: "Up"
})

export const stats = (id: number, extra: Partial<StoreStats> = {}): StoreStats => ({
  storeId: storeId(id),
  capacity: 100,
  available: 50,
  regionCount: 0,
  sendingSnapCount: 0,
  receivingSnapCount: 0,
  startTime: 0,
  applyingSnapCount: 0,
  isBusy: false,
  usedSize: 0,
  ...extra
})

export const heartbeat = (r: Region, leader?: Peer, pendingPeers: ReadonlyArray<Peer> = [], approximateSize = 0) => ({
  region: r,
  leader: leader ?? r.peers[0]!,
  pendingPeers,
  approximateSize
})

/** The right side of a result; throws with the error's message otherwise. */
export const get = <A>(r: Result<A>): A => {
  if (Either.isLeft(r)) throw new Error(`unexpected ${r.left.type}: ${r.left.message}`)
  return r.right
}

/** The error of a result; throws if it succeeded. */
export const err = <A>(r: Result<A>): SchedulerError => {
  if (Either.isRight(r)) throw new Error("expected a failure")
  return r.left
}

/** A bootstrapped core with stores 1..n (region `bootstrapRegion` on store 1, default `["", "")` id 1). */
export const bootstrappedCore = (stores = 3, bootstrapRegion: Region = region(1, "", "", { peers: [peer(1, 1)] })) => {
  const core = new SchedulerCore(42, emptyState)
  get(core.bootstrap(store(1), bootstrapRegion))
  for (let i = 2; i <= stores; i++) get(core.putStore(store(i)))
  core.log.take()
  return core
}

export const rid = (n: number): RegionId => regionId(n)
export const sid = (n: number): StoreId => storeId(n)
export const pid = (n: number): PeerId => peerId(n)
