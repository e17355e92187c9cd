/**
 * The `SchedulerClient` conformance suite: what a store may rely on from its scheduler client,
 * whichever way it reaches the scheduler (see `services/SchedulerClient.ts`).
 *
 * - Bootstrap happens once: `isBootstrapped` turns true, a second bootstrap is ALREADY_BOOTSTRAPPED,
 *   and calls that need a cluster are NOT_BOOTSTRAPPED before it.
 * - `allocId` ids are unique and increasing, concurrent callers included, and above the bootstrap ids.
 * - `putStore` registers or updates a store that `getStore` / `getAllStores` then return; an unknown
 *   store is STORE_NOT_FOUND.
 * - A region heartbeat makes the region and its leader visible to `getRegion` (by key) and
 *   `getRegionById`; a stale epoch is STALE_REGION; unknown regions are `undefined`.
 * - A split (`askSplit`, `reportSplit`) gives fresh ids and two regions that `scanRegions` returns in
 *   key order, up to its limit.
 * - `tso(count)` is strictly increasing and reserves `count` timestamps.
 * - The scheduler's refusals are typed `SchedulerError`s with their wire `type`.
 *
 * `make` builds a client to a fresh, empty scheduler in the test's scope. Tests run on the live clock.
 */
import { Effect, type Scope } from "effect"
import { utf8 } from "../../protocol/bytes.js"
import { type PeerId, peerId, regionId, type StoreId, storeId } from "../../protocol/ids.js"
import type { Peer, Region, Store } from "../../protocol/metapb.js"
import type { StoreStats } from "../../protocol/scheduler.js"
import { type SchedulerClient, SchedulerUnavailable } from "../../services/SchedulerClient.js"
import { type Assert, vitest } from "./vitest.js"

export interface SchedulerClientConformanceOptions {
  /**
   * A client whose scheduler cannot be reached, when the layer can have one (a remote client): its calls
   * must fail with `SchedulerUnavailable` (give it a short deadline).
   */
  readonly unreachable?: Effect.Effect<SchedulerClient["Type"], unknown, Scope.Scope>
  /** Per-test timeout in ms (default 30 000). */
  readonly timeout?: number
}

const peer = (id: number, store: number): Peer => ({ id: peerId(id), storeId: storeId(store) })
const store = (id: number, address = `127.0.0.1:${20160 + id}`): Store => ({ id: storeId(id), address, state: "Up" })
const region = (id: number, start: string, end: string, peers: ReadonlyArray<Peer>, version = 1): Region => ({
  id: regionId(id),
  startKey: utf8(start),
  endKey: utf8(end),
  regionEpoch: { confVer: 1, version },
  peers
})
const stats = (id: number): StoreStats => ({
  storeId: storeId(id),
  capacity: 100,
  available: 50,
  regionCount: 1,
  sendingSnapCount: 0,
  receivingSnapCount: 0,
  startTime: 0,
  applyingSnapCount: 0,
  isBusy: false,
  usedSize: 0
})
const heartbeat = (r: Region, leader: Peer = r.peers[0]!) => ({
  region: r,
  leader,
  pendingPeers: [],
  approximateSize: 1 << 20
})

/** The scheduler's error type for a failed call, or the tag of another failure. */
const errorType = <A, E extends { readonly _tag: string }, R>(call: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(call), (e) =>
    e._tag === "SchedulerError" ? (e as unknown as { readonly type: string }).type : e._tag
  )

/** A bootstrapped cluster: store 1 with region `["", "")` led by its only peer, ids drawn from the client. */
const bootstrapped = (c: SchedulerClient["Type"]) =>
  Effect.gen(function* () {
    const s = yield* c.allocId
    const r = yield* c.allocId
    const p = yield* c.allocId
    const first = region(r, "", "", [peer(p, s)])
    yield* c.bootstrap(store(s), first)
    return { storeId: s as StoreId, region: first, leader: peer(p, s), peerId: p as PeerId }
  })

/** Runs the SchedulerClient suite on clients `make` builds (one fresh scheduler per test). */
export const schedulerClientConformance = (
  name: string,
  make: Effect.Effect<SchedulerClient["Type"], unknown, Scope.Scope>,
  options: SchedulerClientConformanceOptions = {}
) => {
  const { describe, it } = vitest()
  const assert: Assert = vitest().assert
  return describe(`SchedulerClient conformance: ${name}`, () => {
    const timeout = options.timeout ?? 30_000

    it.scopedLive(
      "bootstrap happens once; cluster calls before it are NOT_BOOTSTRAPPED",
      () =>
        Effect.gen(function* () {
          const c = yield* make
          assert.isFalse(yield* c.isBootstrapped)
          assert.strictEqual(yield* errorType(c.getStore(storeId(1))), "NOT_BOOTSTRAPPED")
          const { region: first, storeId: s } = yield* bootstrapped(c)
          assert.isTrue(yield* c.isBootstrapped)
          assert.strictEqual(yield* errorType(c.bootstrap(store(s), first)), "ALREADY_BOOTSTRAPPED")
          assert.strictEqual((yield* c.getStore(s)).address, store(s).address)
          const known = yield* c.getRegionById(first.id)
          assert.strictEqual(known?.region.id, first.id)
          assert.deepStrictEqual(Array.from(known!.region.endKey), [], "the bootstrap region spans every key")
        }),
      timeout
    )

    it.scopedLive(
      "allocId: unique and increasing, concurrent callers included, above the bootstrap ids",
      () =>
        Effect.gen(function* () {
          const c = yield* make
          const { peerId: highest } = yield* bootstrapped(c)
          const sequential: Array<number> = []
          for (let i = 0; i < 50; i++) sequential.push(yield* c.allocId)
          assert.isAbove(sequential[0]!, highest)
          for (let i = 1; i < sequential.length; i++) assert.isAbove(sequential[i]!, sequential[i - 1]!)
          const concurrent = yield* Effect.all(
            Array.from({ length: 200 }, () => c.allocId),
            { concurrency: 50 }
          )
          assert.strictEqual(new Set([...sequential, ...concurrent]).size, 250)
          assert.isAbove(Math.min(...concurrent), sequential[sequential.length - 1]!)
        }),
      timeout
    )

    it.scopedLive(
      "putStore registers and updates stores; getStore and getAllStores return them",
      () =>
        Effect.gen(function* () {
          const c = yield* make
          const { storeId: s1 } = yield* bootstrapped(c)
          const s2 = yield* c.allocId
          const s3 = yield* c.allocId
          yield* c.putStore(store(s2))
          yield* c.putStore(store(s3, "10.0.0.3:20160"))
          yield* c.putStore(store(s3, "10.0.0.3:20161"))
          assert.strictEqual((yield* c.getStore(storeId(s3))).address, "10.0.0.3:20161")
          assert.deepStrictEqual(
            (yield* c.getAllStores()).map((x) => x.id as number).sort((a, b) => a - b),
            [s1, s2, s3]
          )
          assert.strictEqual((yield* c.getAllStores({ excludeTombstones: true })).length, 3)
          yield* c.storeHeartbeat(stats(s2))
          assert.strictEqual(yield* errorType(c.getStore(storeId(s3 + 1000))), "STORE_NOT_FOUND")
        }),
      timeout
    )

    it.scopedLive(
      "a region heartbeat makes the region and its leader visible by key and by id",
      () =>
        Effect.gen(function* () {
          const c = yield* make
          const { region: first, leader } = yield* bootstrapped(c)
          yield* c.regionHeartbeat(heartbeat(first, leader))
          const byKey = yield* c.getRegion(utf8("any key"))
          assert.strictEqual(byKey?.region.id, first.id)
          assert.deepStrictEqual(byKey?.leader, leader)
          assert.isTrue(byKey!.region.startKey instanceof Uint8Array)
          const byId = yield* c.getRegionById(first.id)
          assert.deepStrictEqual(byId?.leader, leader)
          assert.isUndefined(yield* c.getRegionById(regionId(first.id + 10_000)))
        }),
      timeout
    )

    it.scopedLive(
      "a split: fresh ids, both halves found by key and scanned in order up to the limit; stale epochs refused",
      () =>
        Effect.gen(function* () {
          const c = yield* make
          const { region: first, storeId: s } = yield* bootstrapped(c)
          yield* c.regionHeartbeat(heartbeat(first))
          const split = yield* c.askSplit(first)
          assert.strictEqual(split.newPeerIds.length, first.peers.length)
          assert.notStrictEqual(split.newRegionId, first.id)
          const left = region(first.id, "", "m", first.peers, 2)
          const right = region(split.newRegionId, "m", "", [peer(split.newPeerIds[0]!, s)], 2)
          yield* c.reportSplit(left, right)
          yield* c.regionHeartbeat(heartbeat(left))
          yield* c.regionHeartbeat(heartbeat(right))
          assert.strictEqual((yield* c.getRegion(utf8("a")))?.region.id, first.id)
          assert.strictEqual((yield* c.getRegion(utf8("m")))?.region.id, split.newRegionId)
          assert.strictEqual((yield* c.getRegion(utf8("zzz")))?.region.id, split.newRegionId)
          const all = yield* c.scanRegions(new Uint8Array(), new Uint8Array())
          assert.deepStrictEqual(
            all.map((r) => r.region.id as number),
            [first.id, split.newRegionId]
          )
          const one = yield* c.scanRegions(new Uint8Array(), new Uint8Array(), 1)
          assert.deepStrictEqual(
            one.map((r) => r.region.id as number),
            [first.id]
          )
          const fromM = yield* c.scanRegions(utf8("m"), new Uint8Array())
          assert.deepStrictEqual(
            fromM.map((r) => r.region.id as number),
            [split.newRegionId]
          )
          // the pre-split region (older version) is stale now
          assert.strictEqual(yield* errorType(c.regionHeartbeat(heartbeat(first))), "STALE_REGION")
        }),
      timeout
    )

    it.scopedLive(
      "tso: strictly increasing, and a batch of n reserves n timestamps",
      () =>
        Effect.gen(function* () {
          const c = yield* make
          let last = yield* c.tso(1)
          for (const count of [1, 1, 10, 100, 1, 1000, 3]) {
            const next = yield* c.tso(count)
            assert.isTrue(next > last, `${next} > ${last}`)
            assert.isTrue(next - last >= BigInt(count), `tso(${count}) reserved ${next - last}`)
            last = next
          }
          const concurrent = yield* Effect.all(
            Array.from({ length: 100 }, () => c.tso(1)),
            { concurrency: 20 }
          )
          assert.strictEqual(new Set(concurrent).size, 100)
          assert.isTrue(
            concurrent.every((t) => t > last),
            "after every earlier timestamp"
          )
        }),
      timeout
    )

    const unreachable = options.unreachable
    if (unreachable !== undefined) {
      it.scopedLive(
        "a scheduler that cannot be reached: calls fail with SchedulerUnavailable",
        () =>
          Effect.gen(function* () {
            const c = yield* unreachable
            const e = yield* Effect.flip(c.allocId)
            assert.instanceOf(e, SchedulerUnavailable)
          }),
        timeout
      )
    }
  })
}
