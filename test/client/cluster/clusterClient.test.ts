/**
 * The cluster client's routing and retry loop against fake stores over TCP (see `fakeCluster.ts`):
 * region errors answered by the stores' region checks or injected as faults, and a scheduler view
 * that may lag behind.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Option } from "effect"
import { begin, transact } from "../../../src/client/transaction.js"
import { fromUtf8, utf8 } from "../../../src/protocol/bytes.js"
import { NotLeader, ServerIsBusy, StaleCommand } from "../../../src/protocol/errorpb.js"
import { regionId, storeId, timestamp } from "../../../src/protocol/ids.js"
import { deadAddress, makeRegion, peerOf, setupFakeCluster, Topology } from "./fakeCluster.js"

const setup = setupFakeCluster

/** Three regions ["", "g"), ["g", "p"), ["p", "") on stores 1-3, led by stores 1, 2 and 3. */
const threeRegions = () => {
  const t = new Topology()
  t.setRegion(makeRegion(1, "", "g", [1, 2, 3]), 1)
  t.setRegion(makeRegion(2, "g", "p", [1, 2, 3]), 2)
  t.setRegion(makeRegion(3, "p", "", [1, 2, 3]), 3)
  return t
}

const summary = (t: Topology, method: string) => t.callsTo(method).map((c) => `s${c.store}:r${c.context?.regionId}`)

const texts = (pairs: ReadonlyArray<{ key: Uint8Array; value: Uint8Array }>) =>
  pairs.map((p) => `${fromUtf8(p.key)}=${fromUtf8(p.value)}`)

describe("cluster client: routing", () => {
  it.scopedLive("each key goes to its region's leader with the region's context", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const { kv } = yield* setup(t, [1, 2, 3])
      for (const k of ["a", "h", "q"]) yield* kv.rawPut(k, `v-${k}`)
      assert.deepStrictEqual(summary(t, "RawPut"), ["s1:r1", "s2:r2", "s3:r3"])
      const put = t.callsTo("RawPut")[1]!.context!
      assert.deepStrictEqual(put, {
        regionId: regionId(2),
        regionEpoch: { version: 1, confVer: 1 },
        peer: peerOf(2, 2)
      })
      assert.strictEqual(fromUtf8((yield* kv.rawGet("h"))!), "v-h")
      assert.strictEqual(fromUtf8((yield* kv.rawGet("q"))!), "v-q")
      assert.isUndefined(yield* kv.rawGet("b"))
      yield* kv.rawDelete("q")
      assert.isUndefined(yield* kv.rawGet("q"))
      assert.deepStrictEqual(summary(t, "RawDelete"), ["s3:r3"])
      // column families travel with the request
      yield* kv.rawPut("h", "locked", { cf: "lock" })
      assert.strictEqual(fromUtf8((yield* kv.rawGet("h", { cf: "lock" }))!), "locked")
      assert.strictEqual(fromUtf8((yield* kv.rawGet("h"))!), "v-h")
      assert.strictEqual(t.schedulerCalls.getRegion, 3, "one scheduler lookup per region")
      assert.strictEqual(t.schedulerCalls.getStore, 3, "one address lookup per store")
    })
  )

  it.scopedLive("NotLeader with a hint: retried at once on the hinted leader, which is remembered", () =>
    Effect.gen(function* () {
      const t = new Topology()
      const r = makeRegion(1, "", "", [1, 2, 3])
      t.setRegion(r, 1)
      t.setTruth(r, 2) // the scheduler has not heard of the new leader yet
      const { kv } = yield* setup(t, [1, 2, 3])
      const started = yield* Clock.currentTimeMillis
      yield* kv.rawPut("k", "v")
      assert.isBelow((yield* Clock.currentTimeMillis) - started, 500)
      assert.deepStrictEqual(summary(t, "RawPut"), ["s1:r1", "s2:r1"])
      assert.deepStrictEqual(t.callsTo("RawPut")[1]!.context!.peer, peerOf(1, 2))
      assert.strictEqual(fromUtf8((yield* kv.rawGet("k"))!), "v")
      assert.deepStrictEqual(summary(t, "RawGet"), ["s2:r1"], "straight to the new leader")
    })
  )

  it.scopedLive("NotLeader without a hint: another peer is asked", () =>
    Effect.gen(function* () {
      const t = new Topology()
      const r = makeRegion(1, "", "", [1, 2, 3])
      t.setRegion(r, 1)
      t.setTruth(r, 2)
      // store 1 lost leadership and knows no leader yet
      t.addFault({ store: 1, error: new NotLeader({ regionId: regionId(1) }), times: Infinity })
      const { kv } = yield* setup(t, [1, 2, 3])
      yield* kv.rawPut("k", "v")
      assert.deepStrictEqual(summary(t, "RawPut"), ["s1:r1", "s2:r1"])
    })
  )

  it.scopedLive("EpochNotMatch after a split: the store's regions replace the cached one", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [2, 1]), 1)
      const { kv, router } = yield* setup(t, [1, 2])
      yield* kv.rawPut("a", "1")
      t.split(1, "k", 2) // both halves led by store 1; the scheduler has not heard of it
      const lookups = t.schedulerCalls.getRegion
      yield* kv.rawPut("z", "26")
      // the new region is asked on the store that answered, not its first peer (store 2)
      assert.deepStrictEqual(summary(t, "RawPut"), ["s1:r1", "s1:r1", "s1:r2"])
      assert.deepStrictEqual(t.callsTo("RawPut")[2]!.context!.regionEpoch, { version: 2, confVer: 1 })
      assert.strictEqual(t.schedulerCalls.getRegion, lookups, "learnt from the store, not the stale scheduler")
      assert.deepStrictEqual(
        router.cache.regions().map((e) => [e.region.id as number, fromUtf8(e.region.endKey)]),
        [
          [1, "k"],
          [2, ""]
        ]
      )
      // then region 2's leadership moves to store 2
      t.setTruth(t.regions.get(regionId(2))!.region, 2)
      yield* kv.rawPut("y", "25")
      assert.deepStrictEqual(summary(t, "RawPut").slice(3), ["s1:r2", "s2:r2"])
      yield* kv.rawPut("b", "2")
      assert.deepStrictEqual(texts(yield* kv.rawScan("")), ["a=1", "b=2", "y=25", "z=26"])
    })
  )

  it.scopedLive("RegionNotFound: the region is reloaded from the scheduler", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [1, 2]), 1)
      const { kv } = yield* setup(t, [1, 2, 3])
      yield* kv.rawPut("a", "1")
      // the region moved to stores 2 and 3 (conf changes); the scheduler knows
      t.setRegion(makeRegion(1, "", "", [2, 3], { confVer: 3 }), 3)
      yield* kv.rawPut("b", "2")
      assert.deepStrictEqual(summary(t, "RawPut"), ["s1:r1", "s1:r1", "s3:r1"])
      assert.deepStrictEqual(t.callsTo("RawPut")[2]!.context!.regionEpoch, { version: 1, confVer: 3 })
      assert.strictEqual(t.schedulerCalls.getRegion, 2)
    })
  )

  it.scopedLive("StoreNotMatch: the store's address is asked again", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [1]), 1)
      const { kv, stores } = yield* setup(t, [1, 2])
      // the scheduler first gives an old address of store 1, where store 2 now listens
      t.staleAddress.set(1, stores.get(2)!.address)
      yield* kv.rawPut("a", "1")
      assert.deepStrictEqual(summary(t, "RawPut"), ["s2:r1", "s1:r1"])
      assert.strictEqual(t.schedulerCalls.getStore, 2)
    })
  )

  it.scopedLive("ServerIsBusy and StaleCommand are retried after a backoff until the store serves", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [1]), 1)
      t.addFault({ method: "RawPut", error: new ServerIsBusy({ reason: "test" }), times: 3 })
      t.addFault({ method: "RawGet", error: new StaleCommand(), times: 2 })
      const { kv } = yield* setup(t, [1])
      const started = yield* Clock.currentTimeMillis
      yield* kv.rawPut("a", "1")
      // waits of 20, 40 and 80 ms
      assert.isAtLeast((yield* Clock.currentTimeMillis) - started, 130)
      assert.strictEqual(t.callsTo("RawPut").length, 4)
      assert.strictEqual(fromUtf8((yield* kv.rawGet("a"))!), "1")
      assert.strictEqual(t.callsTo("RawGet").length, 3)
    })
  )

  it.scopedLive("an unreachable leader: the next peer is asked and its hint followed", () =>
    Effect.gen(function* () {
      const t = new Topology()
      const r = makeRegion(1, "", "", [1, 2, 3])
      t.setRegion(r, 1)
      t.setTruth(r, 3) // store 1 is down and store 3 was elected; the scheduler has not heard yet
      const { kv } = yield* setup(t, [2, 3])
      t.addresses.set(storeId(1), yield* deadAddress)
      const started = yield* Clock.currentTimeMillis
      yield* kv.rawPut("b", "2")
      assert.isBelow((yield* Clock.currentTimeMillis) - started, 1000, "a refused connection fails fast")
      assert.deepStrictEqual(summary(t, "RawPut"), ["s2:r1", "s3:r1"])
      assert.strictEqual(fromUtf8((yield* kv.rawGet("b"))!), "2")
      assert.deepStrictEqual(summary(t, "RawGet"), ["s3:r1"])
    })
  )

  it.scopedLive("a silent leader: after the attempt timeout the next peer is asked at once (a read)", () =>
    Effect.gen(function* () {
      const t = new Topology()
      const r = makeRegion(1, "", "", [1, 2])
      t.setRegion(r, 1)
      t.setTruth(r, 2)
      t.silent.add(1)
      const { kv } = yield* setup(t, [1, 2], { timeout: "300 millis" })
      const started = yield* Clock.currentTimeMillis
      yield* kv.rawGet("a")
      const elapsed = (yield* Clock.currentTimeMillis) - started
      assert.isAtLeast(elapsed, 300)
      assert.isBelow(elapsed, 1500)
      assert.deepStrictEqual(summary(t, "RawGet"), ["s1:r1", "s2:r1"])
      // a put is not sent again after a timeout (`writeRetry.test.ts`); this one goes to the new leader
      yield* kv.rawPut("a", "1")
      assert.deepStrictEqual(summary(t, "RawPut"), ["s2:r1"])
    })
  )

  it.scopedLive("a request the store rejects fails at once", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [1]), 1)
      const { kv } = yield* setup(t, [1])
      const e = yield* Effect.flip(kv.rawPut("", "empty key"))
      assert.strictEqual(e._tag, "InvalidArgument")
      assert.strictEqual(t.callsTo("RawPut").length, 1)
      const cf = yield* Effect.flip(kv.rawGet("a", { cf: "nope" }))
      assert.strictEqual(cf._tag, "InvalidArgument")
    })
  )
})

describe("cluster client: deadline", () => {
  it.scopedLive("a store that is always busy: fails with ServerIsBusy after about the deadline", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [1]), 1)
      t.addFault({ error: new ServerIsBusy({ reason: "always" }), times: Infinity })
      const { kv } = yield* setup(t, [1], { deadline: "800 millis", backoffMax: "200 millis" })
      const started = yield* Clock.currentTimeMillis
      const e = yield* Effect.flip(kv.rawPut("a", "1"))
      const elapsed = (yield* Clock.currentTimeMillis) - started
      assert.strictEqual(e._tag, "ServerIsBusy")
      assert.isAtLeast(elapsed, 750)
      assert.isBelow(elapsed, 1500)
      // 20, 40, 80, 160, 200, 200 ms waits, then the rest of the deadline
      assert.isAtLeast(t.callsTo("RawPut").length, 6)
    })
  )

  it.scopedLive("no store reachable: fails with StoreUnavailable after the deadline", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [1, 2]), 1)
      const { kv } = yield* setup(t, [], { deadline: "600 millis" })
      t.addresses.set(storeId(1), yield* deadAddress)
      t.addresses.set(storeId(2), yield* deadAddress)
      const started = yield* Clock.currentTimeMillis
      const e = yield* Effect.flip(kv.rawGet("a"))
      const elapsed = (yield* Clock.currentTimeMillis) - started
      assert.strictEqual(e._tag, "StoreUnavailable")
      assert.isAtLeast(elapsed, 550)
      assert.isBelow(elapsed, 1500)
    })
  )

  it.scopedLive("a silent store and a deadline inside the attempt timeout: RequestTimeout naming the store", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [1]), 1)
      t.silent.add(1)
      const { kv, stores } = yield* setup(t, [1], { deadline: "300 millis", timeout: "5 seconds" })
      const started = yield* Clock.currentTimeMillis
      const e = yield* Effect.flip(kv.rawGet("a"))
      assert.isBelow((yield* Clock.currentTimeMillis) - started, 1000)
      assert.strictEqual(e._tag, "RequestTimeout")
      if (e._tag === "RequestTimeout") {
        assert.strictEqual(e.address, stores.get(1)!.address)
        assert.strictEqual(e.method, "RawGet")
      }
    })
  )

  it.scopedLive("no region known: fails naming the scheduler after the deadline", () =>
    Effect.gen(function* () {
      const t = new Topology()
      const { kv } = yield* setup(t, [], { deadline: "300 millis" })
      const e = yield* Effect.flip(kv.rawGet("a"))
      assert.strictEqual(e._tag, "StoreUnavailable")
      assert.include(e._tag === "StoreUnavailable" ? e.message : "", "no region is known")
      assert.isAtLeast(t.schedulerCalls.getRegion, 3, "asked again after each wait")
    })
  )
})

describe("cluster client: scans", () => {
  const fill = (kv: Effect.Effect.Success<ReturnType<typeof setup>>["kv"]) =>
    Effect.forEach(["a", "c", "f", "g", "h", "m", "o", "p", "q", "z"], (k) => kv.rawPut(k, k.toUpperCase()), {
      discard: true
    })

  it.scopedLive("walks the regions in key order within limit and end", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const { kv } = yield* setup(t, [1, 2, 3])
      yield* fill(kv)
      const keys = (pairs: ReadonlyArray<{ key: Uint8Array }>) => pairs.map((p) => fromUtf8(p.key)).join("")
      assert.strictEqual(keys(yield* kv.rawScan("")), "acfghmopqz")
      assert.strictEqual(keys(yield* kv.rawScan("b", { end: "q" })), "cfghmop")
      assert.strictEqual(keys(yield* kv.rawScan("b", { limit: 4 })), "cfgh", "the limit crosses a region boundary")
      assert.strictEqual(keys(yield* kv.rawScan("h", { end: "p" })), "hmo", "an end at a region's start key")
      assert.strictEqual(keys(yield* kv.rawScan("i", { limit: 1 })), "m")
      assert.strictEqual(keys(yield* kv.rawScan("q", { end: "b" })), "", "an empty range")
      assert.strictEqual(keys(yield* kv.rawScan("", { limit: 0 })), "")
      assert.deepStrictEqual(texts(yield* kv.rawScan("y")), ["z=Z"])
      // one scan of everything asked each region once
      t.calls.length = 0
      yield* kv.rawScan("")
      assert.deepStrictEqual(summary(t, "RawScan"), ["s1:r1", "s2:r2", "s3:r3"])
    })
  )

  it.scopedLive("pages through a region past the server's byte budget", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "k", [1]), 1)
      t.setRegion(makeRegion(2, "k", "", [1]), 1)
      const { kv } = yield* setup(t, [1])
      const big = new Uint8Array(1024 * 1024).fill(7)
      for (const k of ["b1", "b2", "b3", "b4", "b5"]) yield* kv.rawPut(k, big)
      yield* kv.rawPut("x", "small")
      const pairs = yield* kv.rawScan("")
      assert.deepStrictEqual(
        pairs.map((p) => `${fromUtf8(p.key)}:${p.value.length}`),
        ["b1:1048576", "b2:1048576", "b3:1048576", "b4:1048576", "b5:1048576", "x:5"]
      )
      // 4 MiB in the first page, the rest of region 1, then region 2
      assert.deepStrictEqual(summary(t, "RawScan"), ["s1:r1", "s1:r1", "s1:r2"])
    })
  )
})

describe("cluster client: transactions", () => {
  it.scopedLive("a transaction over three regions commits, and scans see it region by region", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const { backend } = yield* setup(t, [1, 2, 3])
      yield* transact(backend, (txn) =>
        Effect.forEach(["a", "h", "q", "b"], (k) => txn.set(utf8(k), utf8(k.toUpperCase())), { discard: true })
      )
      const prewrites = summary(t, "KvPrewrite")
      assert.sameMembers(prewrites, ["s1:r1", "s2:r2", "s3:r3"])
      assert.strictEqual(prewrites[0], "s1:r1", "the primary's region first")
      const reader = yield* begin(backend)
      assert.deepStrictEqual(Option.map(yield* reader.get(utf8("q")), fromUtf8), Option.some("Q"))
      assert.deepStrictEqual(texts(yield* reader.scan(utf8(""), 10)), ["a=A", "b=B", "h=H", "q=Q"])
      assert.deepStrictEqual(texts(yield* reader.scan(utf8("c"), 1)), ["h=H"])
      assert.deepStrictEqual(
        (yield* backend.groupByRegion([utf8("q"), utf8("a"), utf8("r"), utf8("b")])).map((g) => g.map(fromUtf8)),
        [
          ["q", "r"],
          ["a", "b"]
        ]
      )
    })
  )

  it.scopedLive("a multi-key request is regrouped when a split moved some of its keys", () =>
    Effect.gen(function* () {
      const t = new Topology()
      t.setRegion(makeRegion(1, "", "", [1, 2]), 1)
      const { backend } = yield* setup(t, [1, 2])
      yield* backend.groupByRegion([utf8("a")]) // caches the one region
      t.split(1, "k", 2)
      yield* transact(backend, (txn) =>
        Effect.all([txn.set(utf8("a"), utf8("1")), txn.set(utf8("m"), utf8("2"))], { discard: true })
      )
      // the stale grouping sent one prewrite for both keys; after EpochNotMatch, one per region
      const prewrites = summary(t, "KvPrewrite")
      assert.strictEqual(prewrites.length, 3)
      assert.strictEqual(prewrites[0], "s1:r1")
      assert.sameMembers(prewrites.slice(1), ["s1:r1", "s1:r2"])
      const regrouped = t.callsTo("KvPrewrite").slice(1)
      assert.isTrue(regrouped.every((c) => c.context?.regionEpoch.version === 2))
      const reader = yield* begin(backend)
      assert.deepStrictEqual(texts(yield* reader.scan(utf8(""), 10)), ["a=1", "m=2"])
    })
  )

  it.scopedLive("a crashed transaction's locks are resolved in the regions holding them", () =>
    Effect.gen(function* () {
      const t = threeRegions()
      const { backend } = yield* setup(t, [1, 2, 3])
      // prewrite "a" (primary, region 1) and "h" (region 2), then never commit; TTL 0 = expired
      const startVersion = yield* backend.tso
      for (const k of ["a", "h"]) {
        const r = yield* backend.KvPrewrite({
          mutations: [{ op: "Put", key: utf8(k), value: utf8("x") }],
          primaryLock: utf8("a"),
          startVersion,
          lockTtl: 0
        })
        assert.deepStrictEqual(r.errors, [])
      }
      const reader = yield* begin(backend)
      assert.deepStrictEqual(yield* reader.get(utf8("h")), Option.none(), "rolled back, so not visible")
      assert.deepStrictEqual(summary(t, "KvCheckTxnStatus"), ["s1:r1"], "asked the primary's region")
      assert.deepStrictEqual(summary(t, "KvResolveLock"), ["s2:r2"], "resolved in the lock's region")
      const status = yield* backend.KvCheckTxnStatus({
        primaryKey: utf8("a"),
        lockTs: startVersion,
        currentTs: yield* backend.tso
      })
      assert.strictEqual(status.commitVersion, timestamp(0))
      assert.strictEqual(status.lockTtl, 0)
    })
  )
})
