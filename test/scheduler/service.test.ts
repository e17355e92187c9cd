/**
 * The Scheduler service (single writer, clock, persistence) through `layerClientLocal`: TSO under a
 * test clock (many calls, restart, clock stepped back), several stores sharing one scheduler, strict
 * mode, and falling back to the durable state when a write fails.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Option, Ref, TestClock } from "effect"
import { StorageError } from "../../src/protocol/errorpb.js"
import type { Timestamp } from "../../src/protocol/ids.js"
import { layerClientLocal, makeClientLocal } from "../../src/layers/schedulerClientLocal.js"
import { layerScheduler } from "../../src/layers/schedulerServer.js"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { Scheduler } from "../../src/scheduler/service.js"
import { SchedulerClient } from "../../src/services/SchedulerClient.js"
import { Storage } from "../../src/services/Storage.js"
import { physicalTime } from "../../src/services/Tso.js"
import { heartbeat, key, peer, region, rid, sid, stats, store } from "./fixtures.js"

const T0 = 1_700_000_000_000

/** A client over a scheduler on `engine`; a new call is a restart on the same data. */
const clientOn = (engine: MemoryEngine) =>
  layerClientLocal.pipe(Layer.provideMerge(layerScheduler()), Layer.provide(layerMemoryFrom(engine)))

const withClient = <A, E>(engine: MemoryEngine, f: (c: SchedulerClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(SchedulerClient, f).pipe(Effect.provide(clientOn(engine)))

const increasing = (ts: ReadonlyArray<Timestamp>) => {
  for (let i = 1; i < ts.length; i++) assert.isTrue(ts[i]! > ts[i - 1]!, `ts[${i}] ${ts[i]} > ${ts[i - 1]}`)
}

describe("TSO", () => {
  it.effect("strictly increasing over many calls and batches, following the clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const ts = yield* withClient(new MemoryEngine(), (c) =>
        Effect.gen(function* () {
          const out: Array<Timestamp> = []
          for (let i = 0; i < 3000; i++) {
            out.push(yield* c.tso(1 + (i % 7)))
            if (i % 500 === 0) yield* TestClock.adjust("1 millis")
          }
          // three batches of 2^17 in one millisecond: the logical counter overflows into the next ms
          for (let i = 0; i < 3; i++) out.push(yield* c.tso(1 << 17))
          yield* TestClock.adjust("10 seconds")
          out.push(yield* c.tso(1))
          return out
        })
      )
      increasing(ts)
      assert.strictEqual(Number(physicalTime(ts[0]!)), T0)
      assert.strictEqual(Number(physicalTime(ts[ts.length - 1]!)), T0 + 6 + 10_000, "follows the clock again")
      const bad = yield* withClient(new MemoryEngine(), (c) => Effect.either(c.tso(0)))
      assert.isTrue(Either.isLeft(bad))
    })
  )

  it.effect("never goes back when the clock steps back, while running or across a restart", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine()
      yield* TestClock.setTime(T0)
      const before = yield* withClient(engine, (c) =>
        Effect.gen(function* () {
          const a = yield* c.tso(10)
          yield* TestClock.setTime(T0 - 60_000)
          const b = yield* c.tso(1)
          yield* TestClock.setTime(T0 + 2_500)
          const d = yield* c.tso(1)
          return [a, b, d]
        })
      )
      increasing(before)
      // restart with the clock an hour behind
      yield* TestClock.setTime(T0 - 3_600_000)
      const after = yield* withClient(engine, (c) => Effect.all([c.tso(1), c.tso(1)]))
      increasing([...before, ...after])
      // and again without any clock change: the saved ceiling keeps moving up
      const again = yield* withClient(engine, (c) => c.tso(1))
      increasing([...before, ...after, again])
    })
  )
})

describe("local client", () => {
  it.effect("several stores share one scheduler instance", () =>
    Effect.gen(function* () {
      const scheduler = yield* Scheduler
      const a = makeClientLocal(scheduler)
      const b = makeClientLocal(scheduler)
      yield* a.bootstrap(store(1), region(1, "", "", { peers: [peer(1, 1)] }))
      assert.isTrue(yield* b.isBootstrapped)
      yield* b.putStore(store(2))
      assert.deepStrictEqual(
        (yield* a.getAllStores()).map((s) => s.id as number),
        [1, 2]
      )
      const ids = yield* Effect.all([a.allocId, b.allocId, a.allocId], { concurrency: "unbounded" })
      assert.strictEqual(new Set(ids).size, 3)
      yield* b.storeHeartbeat(stats(2))
      const none = yield* a.regionHeartbeat(heartbeat(region(1, "", "", { peers: [peer(1, 1)] })))
      assert.isTrue(Option.isNone(none))
      assert.strictEqual((yield* b.getRegion(key("k")))?.leader?.id, 1)
      assert.strictEqual((yield* b.getRegionById(rid(1)))?.region.id, 1)
      assert.isUndefined(yield* b.getRegionById(rid(9)))
      const split = yield* b.askSplit(region(1, "", "", { peers: [peer(1, 1)] }))
      assert.strictEqual(split.newPeerIds.length, 1)
      yield* a.reportSplit(region(1, "", "m"), region(split.newRegionId, "m", ""))
      assert.strictEqual((yield* a.scanRegions(key(""), key(""))).length, 1)
      const e = yield* Effect.flip(a.getStore(sid(9)))
      assert.strictEqual(e._tag === "SchedulerError" ? e.type : e._tag, "STORE_NOT_FOUND")
    }).pipe(Effect.provide(layerScheduler().pipe(Layer.provide(layerMemoryFrom(new MemoryEngine())))))
  )

  it.effect("an operator added on the scheduler reaches the region's leader through its heartbeat", () =>
    Effect.gen(function* () {
      const scheduler = yield* Scheduler
      const c = makeClientLocal(scheduler)
      const r1 = region(1, "", "", { peers: [peer(1, 1)] })
      yield* c.bootstrap(store(1), r1)
      yield* c.putStore(store(2))
      yield* scheduler.addOperator(rid(1), "add a replica", [
        { _tag: "AddPeer", toStore: sid(2), peerId: (yield* c.allocId) as never }
      ])
      const step = yield* c.regionHeartbeat(heartbeat(r1))
      assert.strictEqual(Option.getOrThrow(step).changePeer?.changeType, "AddNode")
      const op = yield* scheduler.getOperator({ header: { clusterId: 0 }, regionId: rid(1) })
      assert.strictEqual(op.status, "RUNNING")
    }).pipe(Effect.provide(layerScheduler().pipe(Layer.provide(layerMemoryFrom(new MemoryEngine())))))
  )

  it.effect("strict mode turns an impossible conf change report into a defect", () =>
    Effect.gen(function* () {
      const c = makeClientLocal(yield* Scheduler)
      yield* c.bootstrap(store(1), region(1, "", "", { peers: [peer(1, 1)] }))
      yield* c.putStore(store(2))
      yield* c.putStore(store(3))
      const jump = region(1, "", "", { peers: [peer(1, 1), peer(2, 2), peer(3, 3)], confVer: 2 })
      const exit = yield* Effect.exit(c.regionHeartbeat(heartbeat(jump)))
      assert.isTrue(exit._tag === "Failure" && exit.cause._tag === "Die")
    }).pipe(Effect.provide(layerScheduler({ strict: true }).pipe(Layer.provide(layerMemoryFrom(new MemoryEngine())))))
  )
})

describe("persistence failures", () => {
  it.effect("a failed write fails the call and drops the unpersisted change", () =>
    Effect.gen(function* () {
      const failing = yield* Ref.make(false)
      const engine = new MemoryEngine()
      const flaky = Layer.effect(
        Storage,
        Effect.gen(function* () {
          const inner = yield* Storage
          return Storage.of({
            ...inner,
            write: (ops, options) =>
              Effect.flatMap(Ref.get(failing), (f) =>
                f ? Effect.fail(new StorageError({ message: "disk on fire" })) : inner.write(ops, options)
              )
          })
        })
      ).pipe(Layer.provide(layerMemoryFrom(engine)))
      yield* Effect.gen(function* () {
        const c = makeClientLocal(yield* Scheduler)
        yield* c.bootstrap(store(1), region(1, "", "", { peers: [peer(1, 1)] }))
        const id = yield* c.allocId
        yield* Ref.set(failing, true)
        const e = yield* Effect.flip(c.putStore(store(2)))
        assert.match(e.message, /disk on fire/)
        yield* Ref.set(failing, false)
        const missing = yield* Effect.flip(c.getStore(sid(2)))
        assert.strictEqual(missing._tag === "SchedulerError" ? missing.type : "", "STORE_NOT_FOUND")
        // the id batch reloaded from the engine: the next id is beyond everything handed out
        assert.isAbove(yield* c.allocId, id)
      }).pipe(Effect.provide(layerScheduler().pipe(Layer.provide(flaky))))
    })
  )
})
