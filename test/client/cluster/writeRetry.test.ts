/**
 * Which failed attempts the cluster client sends again (`src/client/cluster/retrySafety.ts`), against
 * fake stores over TCP (`fakeCluster.ts`). A raw write is retried only after an answer the store gives
 * before proposing; after an answer given once the command was proposed (`outcomeUnknown`), a lost reply
 * or a connection lost mid-call, it ends as `Indeterminate` after one attempt, and the one copy sent
 * stays the only one. Reads and transactional calls are retried after any of these.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Scope } from "effect"
import { describeError } from "../../../src/client/errors.js"
import { begin } from "../../../src/client/transaction.js"
import { fromUtf8, utf8 } from "../../../src/protocol/bytes.js"
import {
  EpochNotMatch,
  KeyNotInRegion,
  type KvError,
  NotLeader,
  RegionNotFound,
  ServerIsBusy,
  StaleCommand,
  StorageError
} from "../../../src/protocol/errorpb.js"
import { regionId, storeId } from "../../../src/protocol/ids.js"
import { connectStore } from "../../../src/rpc/storeConnection.js"
import { eventually } from "../../../src/testing/eventually.js"
import {
  deadAddress,
  type Fault,
  makeRegion,
  makeShared,
  peerOf,
  setupFakeCluster,
  startFakeStore,
  Topology
} from "./fakeCluster.js"

const setup = setupFakeCluster

/** One region over the whole key space on stores 1 and 2, led by store 1. */
const oneRegion = () => {
  const t = new Topology()
  t.setRegion(makeRegion(1, "", "", [1, 2]), 1)
  return t
}

const region1 = makeRegion(1, "", "", [1, 2])

/** For tests that wait out a lost reply: an attempt's timeout short enough to keep them quick. */
const quick = { timeout: "300 millis" } as const

/** How many `method` requests reached store 1, the leader (another store only refuses them). */
const atLeader = (t: Topology, method: string) => t.callsTo(method).filter((c) => c.store === 1).length

/** Errors a store gives before it proposes: the write did not happen, so it is sent again. */
const beforeProposing: ReadonlyArray<readonly [string, KvError]> = [
  ["NotLeader with a hint", new NotLeader({ regionId: regionId(1), leader: peerOf(1, 1) })],
  ["NotLeader without a hint", new NotLeader({ regionId: regionId(1) })],
  ["EpochNotMatch", new EpochNotMatch({ currentRegions: [region1] })],
  ["RegionNotFound", new RegionNotFound({ regionId: regionId(1) })],
  [
    "KeyNotInRegion",
    new KeyNotInRegion({ key: utf8("k"), regionId: regionId(1), startKey: utf8(""), endKey: utf8("") })
  ],
  ["ServerIsBusy", new ServerIsBusy({ reason: "busy" })],
  ["StaleCommand (superseded: never applies)", new StaleCommand()]
]

/** Answers a store gives after the command entered its log: the write applied (here), or may still. */
const afterProposing: ReadonlyArray<readonly [string, Fault["error"]]> = [
  ["StaleCommand with outcomeUnknown", new StaleCommand({ outcomeUnknown: true })],
  ["ServerIsBusy with outcomeUnknown", new ServerIsBusy({ reason: "did not apply in time", outcomeUnknown: true })],
  ["RegionNotFound with outcomeUnknown", new RegionNotFound({ regionId: regionId(1), outcomeUnknown: true })],
  ["a lost reply (no answer within the attempt's timeout)", "silence"]
]

describe("write retries: refused before proposing", () => {
  for (const [name, error] of beforeProposing) {
    it.scopedLive(`${name}: a put is sent again and applies`, () =>
      Effect.gen(function* () {
        const t = oneRegion()
        t.addFault({ store: 1, method: "RawPut", error })
        const { kv } = yield* setup(t, [1, 2])
        yield* kv.rawPut("k", "v")
        // the leader (store 1) refused once, then served; without a hint, store 2 was asked in between
        assert.strictEqual(atLeader(t, "RawPut"), 2)
        assert.strictEqual(fromUtf8((yield* kv.rawGet("k"))!), "v")
      })
    )
  }

  it.scopedLive("a store that is down (the connection never opens): the put goes to the next peer", () =>
    Effect.gen(function* () {
      const t = new Topology()
      const r = makeRegion(1, "", "", [1, 2])
      t.setRegion(r, 1)
      t.setTruth(r, 2)
      const { kv } = yield* setup(t, [2])
      t.addresses.set(storeId(1), yield* deadAddress)
      yield* kv.rawPut("k", "v")
      assert.deepStrictEqual(
        t.callsTo("RawPut").map((c) => c.store),
        [2]
      )
      assert.strictEqual(fromUtf8((yield* kv.rawGet("k"))!), "v")
    })
  )
})

describe("write retries: outcome unknown", () => {
  for (const [name, error] of afterProposing) {
    it.scopedLive(`${name}: a put fails as Indeterminate after one attempt, and applied once`, () =>
      Effect.gen(function* () {
        const t = oneRegion()
        t.addFault({ store: 1, method: "RawPut", error, afterServing: true })
        const { kv, stores } = yield* setup(t, [1, 2], quick)
        const e = yield* Effect.flip(kv.rawPut("k", "v"))
        assert.strictEqual(e._tag, "Indeterminate")
        if (e._tag === "Indeterminate") {
          assert.strictEqual(e.method, "RawPut")
          assert.strictEqual(e.address, stores.get(1)!.address)
          assert.include(e.message, "outcome unknown")
          // what the CLI prints after `error: `
          assert.match(describeError(e), /^RawPut to .*outcome unknown.*read the key back/)
        }
        assert.strictEqual(t.callsTo("RawPut").length, 1, "never sent again")
        assert.strictEqual(fromUtf8((yield* kv.rawGet("k"))!), "v")
      })
    )

    it.scopedLive(`${name}: a get is sent again`, () =>
      Effect.gen(function* () {
        const t = oneRegion()
        const { kv } = yield* setup(t, [1, 2])
        yield* kv.rawPut("k", "v")
        t.addFault({ store: 1, method: "RawGet", error, afterServing: true })
        assert.strictEqual(fromUtf8((yield* kv.rawGet("k"))!), "v")
        assert.isAtLeast(t.callsTo("RawGet").length, 2)
      })
    )
  }

  it.scopedLive(
    "delete, batch put, batch delete and delete range: not sent again after an answer of unknown outcome",
    () =>
      Effect.gen(function* () {
        const t = oneRegion()
        const { kv } = yield* setup(t, [1, 2])
        const writes = [
          ["RawDelete", kv.rawDelete("k")],
          ["RawBatchPut", kv.rawBatchPut([{ key: "a", value: "1" }])],
          ["RawBatchDelete", kv.rawBatchDelete(["a"])],
          ["RawDeleteRange", kv.rawDeleteRange("a", { end: "z" })]
        ] as const
        for (const [method, write] of writes) {
          const busy = new ServerIsBusy({ reason: "did not apply in time", outcomeUnknown: true })
          t.addFault({ store: 1, method, error: busy, afterServing: true })
          const e = yield* Effect.flip(write)
          assert.strictEqual(e._tag, "Indeterminate", method)
          assert.strictEqual(t.callsTo(method).length, 1, `${method} sent once`)
        }
      })
  )

  it.scopedLive("a StorageError: a put is Indeterminate (the engine may have written it), a get fails as is", () =>
    Effect.gen(function* () {
      const t = oneRegion()
      const { kv } = yield* setup(t, [1, 2])
      t.addFault({ store: 1, method: "RawPut", error: new StorageError({ message: "disk" }) })
      assert.strictEqual((yield* Effect.flip(kv.rawPut("k", "v")))._tag, "Indeterminate")
      t.addFault({ store: 1, method: "RawGet", error: new StorageError({ message: "disk" }) })
      assert.strictEqual((yield* Effect.flip(kv.rawGet("k")))._tag, "StorageError")
      assert.strictEqual(t.callsTo("RawPut").length, 1)
      assert.strictEqual(t.callsTo("RawGet").length, 1)
    })
  )

  it.scopedLive("the deadline passing while a put is in flight: Indeterminate, not RequestTimeout", () =>
    Effect.gen(function* () {
      const t = oneRegion()
      t.silent.add(1)
      const { kv } = yield* setup(t, [1, 2], { deadline: "200 millis", timeout: "5 seconds" })
      const e = yield* Effect.flip(kv.rawPut("k", "v"))
      assert.strictEqual(e._tag, "Indeterminate")
      assert.include(e.message, "deadline")
      // a get cut the same way is only a timeout: nothing it did can matter
      const g = yield* Effect.flip(kv.rawGet("k"))
      assert.strictEqual(g._tag, "RequestTimeout")
      // the same with the route, address and connection at hand (the router's quick first attempt, whose
      // call the deadline ends by itself)
      const again = yield* Effect.flip(kv.rawPut("k", "v"))
      assert.strictEqual(again._tag, "Indeterminate")
      assert.include(again.message, "deadline")
    })
  )

  it.scopedLive("after an Indeterminate put the route is corrected: the next put goes to the next peer", () =>
    Effect.gen(function* () {
      const t = new Topology()
      const r = makeRegion(1, "", "", [1, 2])
      t.setRegion(r, 1)
      t.setTruth(r, 2)
      t.silent.add(1)
      const { kv } = yield* setup(t, [1, 2])
      assert.strictEqual((yield* Effect.flip(kv.rawPut("k", "v1")))._tag, "Indeterminate")
      yield* kv.rawPut("k", "v2")
      assert.deepStrictEqual(
        t.callsTo("RawPut").map((c) => c.store),
        [1, 2]
      )
    })
  )
})

describe("transactional calls: retried after a lost reply (same start_ts, same outcome)", () => {
  for (const method of ["KvPrewrite", "KvCommit"]) {
    it.scopedLive(`${method}: sent again, and the transaction commits`, () =>
      Effect.gen(function* () {
        const t = oneRegion()
        const { backend, kv } = yield* setup(t, [1, 2], quick)
        t.addFault({ store: 1, method, error: "silence", afterServing: true })
        const txn = yield* begin(backend)
        yield* txn.set(utf8("k"), utf8("v"))
        yield* txn.commit
        assert.strictEqual(atLeader(t, method), 2)
        const read = yield* begin(backend)
        assert.deepStrictEqual(Option.map(yield* read.get(utf8("k")), fromUtf8), Option.some("v"))
        // the raw key space is another: untouched
        assert.isUndefined(yield* kv.rawGet("k"))
      })
    )
  }
})

describe("store connection: a request the connection never sent", () => {
  it.scopedLive("once the store's socket is known to be down, a call fails with StoreUnavailable unsent", () =>
    Effect.gen(function* () {
      const t = oneRegion()
      const shared = yield* makeShared
      const storeScope = yield* Scope.make()
      const store = yield* Scope.extend(startFakeStore(t, 1, shared), storeScope)
      const conn = yield* connectStore(store.address, { timeout: "1 second" })
      const context = { regionId: regionId(1), regionEpoch: region1.regionEpoch, peer: peerOf(1, 1) }
      yield* conn.call("RawPut", (rpc) => rpc.RawPut({ context, key: utf8("k"), value: utf8("v"), cf: "default" }))
      yield* Scope.close(storeScope, Exit.void)
      yield* eventually(
        Effect.gen(function* () {
          const e = yield* Effect.flip(
            conn.call("RawGet", (rpc) => rpc.RawGet({ context, key: utf8("k"), cf: "default" }))
          )
          assert.strictEqual(e._tag, "StoreUnavailable")
          assert.isTrue(e._tag === "StoreUnavailable" && e.unsent === true, "marked unsent")
        }),
        { what: "a call refused by the closed connection", timeout: "10 seconds" }
      )
    })
  )
})
