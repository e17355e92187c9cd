/**
 * The raw and transactional handlers over a replicated store (`layerKvStorageRaft`) with two regions split
 * at `"0 00000150"`, each a single peer on store 1. The user key `"0 00000123"` belongs to the left region,
 * though its MVCC keys sort above the raw bound (memcomparable puts a marker after the first 8 bytes).
 *
 * - a transaction on that key proposes, applies, reads its own commit and conflicts where it must;
 * - raw and transactional data never meet, whatever column family a raw request names;
 * - a reader holds the engine snapshot taken when its Snap applied, not one opened after the reply.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Layer } from "effect"
import { layerKvStorageRaft } from "../../src/layers/kvStorageRaft.js"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { MemoryNetwork } from "../../src/layers/transportMemory.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { type PeerId, type RegionId, type StoreId, timestamp } from "../../src/protocol/ids.js"
import type * as Kv from "../../src/protocol/kvrpc.js"
import type { Peer as PeerMeta, Region } from "../../src/protocol/metapb.js"
import { RegionLocalStateCodec } from "../../src/raftstore/codec.js"
import { regionStateKey } from "../../src/raftstore/keys.js"
import { makeRawHandlers } from "../../src/server/rawHandlers.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { Router } from "../../src/services/Router.js"
import { CFS } from "../../src/services/Storage.js"
import { makeTxnHandlers } from "../../src/transaction/handlers.js"
import { encodeKey } from "../../src/transaction/mvccKey.js"
import { eventually, runStore } from "./storeHarness.js"

const S1 = 1 as StoreId
const EPOCH = { confVer: 1, version: 1 }
const BOUND = "0 00000150"
const BELOW = utf8("0 00000123")
const ABOVE = utf8("0 00000151")
const meta = (id: number): PeerMeta => ({ id: id as PeerId, storeId: S1 })
const region = (id: number, start: string, end: string): Region => ({
  id: id as RegionId,
  startKey: utf8(start),
  endKey: utf8(end),
  regionEpoch: EPOCH,
  peers: [meta(id)]
})
const LEFT = region(1, "", BOUND)
const RIGHT = region(2, BOUND, "")
const contextOf = (r: Region): Kv.Context => ({ regionId: r.id, regionEpoch: EPOCH, peer: meta(r.id) })

/** Deletes every data key of the engine behind the raftstore's back (what a destroy or snapshot install does). */
const clearAll = (engine: MemoryEngine) =>
  engine.write(
    CFS.map((cf) => ({ _tag: "DeleteRange" as const, space: cf, start: new Uint8Array([0]), end: new Uint8Array() }))
  )

/** The Router, but once `armed`, the engine is cleared right after a read's Snap reply arrives. */
const clearingAfterSnap = (base: Router["Type"], engine: MemoryEngine, armed: { on: boolean }): Router["Type"] => {
  const isRead = (requests: ReadonlyArray<{ _tag: string }>) => armed.on && requests.some((r) => r._tag === "Snap")
  return {
    ...base,
    send: (regionId, msg) =>
      msg._tag === "RaftCommand" && isRead(msg.request.requests)
        ? Effect.zipRight(
            base.send(regionId, msg),
            Effect.tap(Deferred.await(msg.reply), () => Effect.sync(() => clearAll(engine)))
          )
        : base.send(regionId, msg),
    sendCommand: (request) =>
      isRead(request.requests)
        ? Effect.tap(base.sendCommand(request), () => Effect.sync(() => clearAll(engine)))
        : base.sendCommand(request),
    // a read the leader answers itself, under its lease: cleared right after that answer too
    readLocal: (request) =>
      isRead(request.requests)
        ? Effect.tap(base.readLocal(request), (local) =>
            Effect.sync(() => {
              if (local !== undefined) clearAll(engine)
            })
          )
        : base.readLocal(request),
    readLocalNow: (request, f) => {
      const local = base.readLocalNow(request, f)
      if (local !== undefined && isRead(request.requests)) clearAll(engine)
      return local
    }
  }
}

const start = Effect.gen(function* () {
  const engine = new MemoryEngine()
  engine.write(
    [LEFT, RIGHT].map((r) => ({
      _tag: "Put" as const,
      space: "meta" as const,
      key: regionStateKey(r.id),
      value: RegionLocalStateCodec.encode({ state: "Normal", region: r })
    }))
  )
  const network = yield* MemoryNetwork.make({ seed: 1 })
  const running = yield* runStore(engine, network, S1)
  yield* Effect.addFinalizer(() => running.stop)
  const peers = running.store.peers
  yield* eventually(
    "store 1 leads both regions",
    () => peers.get(LEFT.id)?.isLeader === true && peers.get(RIGHT.id)?.isLeader === true
  )
  const armed = { on: false }
  const router = clearingAfterSnap(running.store.router, engine, armed)
  const ctx = yield* Layer.build(
    layerKvStorageRaft({ commandTimeoutMs: 5_000 }).pipe(
      Layer.provide(Layer.merge(Layer.succeed(Router, router), layerMemoryFrom(engine)))
    )
  )
  const kv = Context.get(ctx, KvStorage)
  const raw = yield* Effect.provideService(makeRawHandlers, KvStorage, kv)
  const txn = yield* Effect.provideService(makeTxnHandlers, KvStorage, kv)
  return { raw, txn, armed }
})

type Txn = Effect.Effect.Success<typeof start>["txn"]

/** Prewrites and commits `key = value` in region `r` at `startTs`/`startTs + 1`. */
const commit = (txn: Txn, r: Region, key: Uint8Array, value: string, startTs: number) =>
  Effect.gen(function* () {
    const context = contextOf(r)
    const pw = yield* txn.KvPrewrite({
      context,
      mutations: [{ op: "Put", key, value: utf8(value) }],
      primaryLock: key,
      startVersion: timestamp(startTs),
      lockTtl: 3000
    })
    assert.deepStrictEqual(pw.errors, [])
    const c = yield* txn.KvCommit({
      context,
      startVersion: timestamp(startTs),
      keys: [key],
      commitVersion: timestamp(startTs + 1)
    })
    assert.isUndefined(c.error)
  })

const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : fromUtf8(v))

describe("key spaces over a replicated store with two regions", () => {
  it.live("a transaction on a key whose MVCC encoding sorts past its region's end runs in its region", () =>
    Effect.gen(function* () {
      const { txn } = yield* start
      yield* commit(txn, RIGHT, ABOVE, "right", 10)
      yield* commit(txn, LEFT, BELOW, "left", 20)
      const got = yield* txn.KvGet({ context: contextOf(LEFT), key: BELOW, version: timestamp(30) })
      assert.strictEqual(text(got.value), "left")
      // a prewrite that started before that commit must see it (else: a lost update)
      const late = yield* txn.KvPrewrite({
        context: contextOf(LEFT),
        mutations: [{ op: "Put", key: BELOW, value: utf8("lost") }],
        primaryLock: BELOW,
        startVersion: timestamp(15),
        lockTtl: 3000
      })
      assert.isDefined(late.errors[0]?.conflict, "the committed write was missed")
      // each region's scan sees its own keys only
      const scan = (r: Region) =>
        Effect.map(
          txn.KvScan({
            context: contextOf(r),
            startKey: r.startKey.length > 0 ? r.startKey : utf8("0"),
            limit: 10,
            version: timestamp(30)
          }),
          (resp) => resp.pairs.map((p) => `${fromUtf8(p.key)}=${fromUtf8(p.value)}`)
        )
      assert.deepStrictEqual(yield* scan(LEFT), ["0 00000123=left"])
      assert.deepStrictEqual(yield* scan(RIGHT), ["0 00000151=right"])
    }).pipe(Effect.scoped)
  )

  it.live("raw requests neither see nor damage transactional data", () =>
    Effect.gen(function* () {
      const { raw, txn } = yield* start
      const context = contextOf(LEFT)
      yield* commit(txn, LEFT, BELOW, "txn", 20)
      yield* raw.RawPut({ context, key: utf8("0 00000100"), value: utf8("raw"), cf: "default" })
      for (const cf of CFS) {
        const pairs = yield* raw.RawScan({ context, startKey: new Uint8Array([0]), limit: 100, cf })
        assert.deepStrictEqual(
          pairs.map((p) => fromUtf8(p.key)),
          cf === "default" ? ["0 00000100"] : [],
          `raw scan of ${cf}`
        )
      }
      assert.isTrue((yield* raw.RawGet({ context, key: BELOW, cf: "default" })).notFound)
      // a raw "lock" and a raw "write record" on the transaction's key: garbage, were they transactional
      yield* raw.RawPut({ context, key: BELOW, value: utf8("not a lock"), cf: "lock" })
      // (as a raw key, the MVCC key's bytes belong to the right region)
      yield* raw.RawPut({
        context: contextOf(RIGHT),
        key: encodeKey(BELOW, 25n),
        value: utf8("not a write"),
        cf: "write"
      })
      const got = yield* txn.KvGet({ context, key: BELOW, version: timestamp(30) })
      assert.isUndefined(got.error)
      assert.strictEqual(text(got.value), "txn")
      yield* commit(txn, LEFT, BELOW, "txn2", 40)
      assert.strictEqual(text((yield* txn.KvGet({ context, key: BELOW, version: timestamp(50) })).value), "txn2")
      assert.strictEqual(text((yield* raw.RawGet({ context, key: BELOW, cf: "lock" })).value), "not a lock")
    }).pipe(Effect.scoped)
  )

  it.live("a reader holds the engine state of its Snap's apply: a range clear right after the reply is not seen", () =>
    Effect.gen(function* () {
      const { raw, txn, armed } = yield* start
      const context = contextOf(LEFT)
      yield* raw.RawPut({ context, key: utf8("0 00000100"), value: utf8("v"), cf: "default" })
      armed.on = true
      assert.strictEqual(text((yield* raw.RawGet({ context, key: utf8("0 00000100"), cf: "default" })).value), "v")
      yield* raw.RawPut({ context, key: utf8("0 00000100"), value: utf8("v2"), cf: "default" })
      const pairs = yield* raw.RawScan({ context, startKey: new Uint8Array([0]), limit: 10, cf: "default" })
      assert.deepStrictEqual(
        pairs.map((p) => fromUtf8(p.value)),
        ["v2"]
      )
      armed.on = false
      yield* commit(txn, LEFT, BELOW, "txn", 20)
      armed.on = true
      const got = yield* txn.KvGet({ context, key: BELOW, version: timestamp(30) })
      assert.strictEqual(text(got.value), "txn")
    }).pipe(Effect.scoped)
  )
})
