/**
 * The simulator's after-data trap (`src/testing/afterDataTrap.ts`) on a raft-logged engine over memory: armed, it
 * holds the next write whose after-data ops change a raft state, with the write's data durable and those ops not
 * in the log; a crash there keeps exactly that. Other writes (a compaction's) pass, and a released write goes on.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer } from "effect"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { layerRaftLogged } from "../../src/layers/storageRaftLogged.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { MemoryLogDisk } from "../../src/raftlog/memoryLog.js"
import { Storage, type WriteOp } from "../../src/services/Storage.js"
import { AfterDataTrap, changesRaftState } from "../../src/testing/afterDataTrap.js"

const build = <E>(layer: Layer.Layer<Storage, E>) => Effect.map(Layer.build(layer), Context.get(Storage))
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : fromUtf8(b))

const machine = () => {
  const engine = new MemoryEngine({ modelSync: true })
  const disk = new MemoryLogDisk(4096)
  const trap = new AfterDataTrap(Duration.zero)
  const open = () =>
    build(layerRaftLogged(() => disk.open(), layerMemoryFrom(engine), { beforeAfterData: trap.beforeAfterData }))
  return { engine, disk, trap, open }
}

const dataPut = (k: string, v: string): WriteOp => ({ _tag: "Put", space: "meta", key: utf8(k), value: utf8(v) })
/** A snapshot's after-data ops: the old log cleared, the raft state that starts at the snapshot. */
const snapshotAfter: ReadonlyArray<WriteOp> = [
  { _tag: "DeleteRange", space: "raft", start: utf8("log-0"), end: utf8("log-9"), afterData: true },
  { _tag: "Put", space: "raft", key: utf8("state"), value: utf8("at-snapshot"), afterData: true }
]
const compactionAfter: ReadonlyArray<WriteOp> = [
  { _tag: "DeleteRange", space: "raft", start: utf8("log-0"), end: utf8("log-5"), afterData: true }
]

/** Yields until `cond` holds, at most `turns` times. */
const until = (cond: () => boolean, turns = 1_000) =>
  Effect.gen(function* () {
    for (let i = 0; i < turns && !cond(); i++) yield* Effect.yieldNow()
    return cond()
  })

describe("after-data trap", () => {
  it("catches a snapshot's, split's or removal's after-data ops, not a compaction's", () => {
    assert.isTrue(changesRaftState(snapshotAfter))
    assert.isTrue(changesRaftState([{ _tag: "Put", space: "raft", key: utf8("state"), value: utf8("s") }]))
    assert.isTrue(changesRaftState([{ _tag: "Delete", space: "raft", key: utf8("state") }]))
    assert.isFalse(changesRaftState(compactionAfter))
  })

  it.scopedLive(
    "holds the write with its data durable and its log ops unwritten: a crash there keeps exactly that",
    () =>
      Effect.gen(function* () {
        const m = machine()
        const s = yield* m.open()
        yield* s.write([{ _tag: "Put", space: "raft", key: utf8("state"), value: utf8("old") }])
        m.trap.arm()
        const write = yield* Effect.fork(s.write([dataPut("applied", "snapshot"), ...snapshotAfter]))
        assert.isTrue(yield* until(() => m.trap.caught), "the trap caught the write")
        assert.strictEqual(m.engine.unsyncedWrites, 0, "the data part is synced before the window")
        // the power goes: the store stops, its unsynced writes and its unwritten log ops lost
        yield* Fiber.interrupt(write)
        m.trap.reset()
        m.disk.cut()
        m.engine.crash()
        const after = yield* m.open()
        assert.strictEqual(text(after.latest.get("meta", utf8("applied"))), "snapshot")
        assert.strictEqual(text(after.latest.get("raft", utf8("state"))), "old", "the log ops never landed")
      })
  )

  it.scopedLive("lets a compaction pass, and a released write goes on to append its log ops", () =>
    Effect.gen(function* () {
      const m = machine()
      const s = yield* m.open()
      m.trap.arm()
      yield* s.write([dataPut("truncated", "5"), ...compactionAfter])
      assert.isFalse(m.trap.caught, "a compaction is not caught")
      assert.isTrue(m.trap.armed, "and the trap stays armed")
      const write = yield* Effect.fork(s.write([dataPut("applied", "snapshot"), ...snapshotAfter]))
      assert.isTrue(yield* until(() => m.trap.caught))
      assert.strictEqual(text(s.latest.get("raft", utf8("state"))), undefined, "held before its log ops")
      yield* m.trap.release()
      yield* Fiber.join(write)
      assert.isFalse(m.trap.caught || m.trap.armed)
      assert.strictEqual(text(s.latest.get("raft", utf8("state"))), "at-snapshot")
      assert.strictEqual(text((yield* m.open()).latest.get("raft", utf8("state"))), "at-snapshot", "and durable")
    })
  )
})
