/**
 * The applies a round holds back (`DeferredWrites`): read through it, the engine must look exactly as if every
 * held-back op had been written — point reads and scans (with bounds and limits), through puts, overwrites and
 * deletes of keys the engine has and has not — and writing the held-back ops must bring the engine there.
 * Checked against a second engine that takes every op at once, in seeded random runs; a failure names its
 * seed (`DEFERRED_WRITES_SEED=<seed>` replays it).
 */
import { assert, describe, it } from "@effect/vitest"
import { utf8 } from "../../src/protocol/bytes.js"
import { MemoryEngine } from "../../src/layers/storageMemory.js"
import { mulberry32 } from "../../src/raft/index.js"
import { DeferredWrites, MAX_DEFERRED_OPS } from "../../src/raftstore/deferredWrites.js"
import type { KeyValue, ScanRange, Space, WriteOp } from "../../src/services/Storage.js"

const key = (i: number) => utf8(`k${String(i).padStart(3, "0")}`)
const text = (kvs: Iterable<KeyValue>) =>
  Array.from(kvs, ({ key, value }) => `${Buffer.from(key).toString()}=${Buffer.from(value).toString()}`)

describe("DeferredWrites", () => {
  it("hands over the ops of one space alone (a raft log of its own writes them first), keeping the others", () => {
    const engine = new MemoryEngine()
    const held = new DeferredWrites(engine)
    held.defer([
      { _tag: "Put", space: "raft", key: key(1), value: utf8("commit 6") },
      { _tag: "Put", space: "default", key: key(2), value: utf8("b") },
      { _tag: "Put", space: "raft", key: key(1), value: utf8("commit 7") }
    ])
    assert.deepStrictEqual(
      held.heldIn("raft").map((op) => (op._tag === "Put" ? Buffer.from(op.value).toString() : op._tag)),
      ["commit 6", "commit 7"],
      "oldest first"
    )
    const generation = held.generation
    engine.write(held.heldIn("raft"))
    held.writtenIn("raft")
    assert.deepStrictEqual(held.heldIn("raft"), [])
    assert.strictEqual(held.size, 1)
    assert.isAbove(held.generation, generation, "a reader laying them over an older snapshot sees the change")
    assert.strictEqual(Buffer.from(held.get("raft", key(1))!).toString(), "commit 7", "read from the engine now")
    assert.strictEqual(Buffer.from(held.get("default", key(2))!).toString(), "b")
    assert.deepStrictEqual(text(held.scan("raft")), ["k001=commit 7"])
  })

  it("lays held-back ops over the engine for gets and scans, and hands them over in order", () => {
    const engine = new MemoryEngine()
    engine.write([
      { _tag: "Put", space: "default", key: key(1), value: utf8("a") },
      { _tag: "Put", space: "default", key: key(3), value: utf8("c") },
      { _tag: "Put", space: "default", key: key(5), value: utf8("e") }
    ])
    const held = new DeferredWrites(engine)
    const ops: Array<WriteOp> = [
      { _tag: "Put", space: "default", key: key(2), value: utf8("b") },
      { _tag: "Delete", space: "default", key: key(3) },
      { _tag: "Put", space: "default", key: key(5), value: utf8("E") },
      { _tag: "Put", space: "meta", key: key(1), value: utf8("m") }
    ]
    assert.isTrue(held.accepts(ops))
    held.defer(ops)
    assert.strictEqual(held.size, 4)
    assert.strictEqual(Buffer.from(held.get("default", key(2))!).toString(), "b")
    assert.isUndefined(held.get("default", key(3)))
    assert.strictEqual(Buffer.from(held.get("default", key(1))!).toString(), "a")
    assert.deepStrictEqual(text(held.scan("default")), ["k001=a", "k002=b", "k005=E"])
    assert.deepStrictEqual(text(held.scan("default", { start: key(2), limit: 1 })), ["k002=b"])
    assert.deepStrictEqual(text(held.scan("default", { start: key(3), end: key(5) })), [])
    assert.deepStrictEqual(text(held.scan("meta")), ["k001=m"])
    // the engine itself has none of it until the ops are written
    assert.deepStrictEqual(text(engine.scan("default")), ["k001=a", "k003=c", "k005=e"])
    engine.write(held.ops)
    held.written()
    assert.strictEqual(held.size, 0)
    assert.deepStrictEqual(text(held.scan("default")), ["k001=a", "k002=b", "k005=E"])
    assert.deepStrictEqual(text(engine.scan("default")), ["k001=a", "k002=b", "k005=E"])
  })

  it("refuses range deletes and more ops than it holds", () => {
    const held = new DeferredWrites(new MemoryEngine())
    assert.isFalse(held.accepts([{ _tag: "DeleteRange", space: "default", start: key(1), end: key(2) }]))
    const many: Array<WriteOp> = Array.from({ length: MAX_DEFERRED_OPS + 1 }, (_, i) => ({
      _tag: "Delete",
      space: "default",
      key: key(i)
    }))
    assert.isFalse(held.accepts(many))
    assert.isTrue(held.accepts(many.slice(1)))
  })

  it("reads as the engine would after the same writes, in seeded random runs", () => {
    const base = Number(process.env.DEFERRED_WRITES_SEED ?? 20261207)
    for (let run = 0; run < 30; run++) {
      const seed = base + run
      const rng = mulberry32(seed)
      const pick = (n: number) => Math.floor(rng() * n)
      const spaces: ReadonlyArray<Space> = ["default", "write", "meta"]
      const model = new MemoryEngine()
      const engine = new MemoryEngine()
      const held = new DeferredWrites(engine)
      const randomOp = (): WriteOp => {
        const space = spaces[pick(spaces.length)]!
        const k = key(pick(60))
        return rng() < 0.3
          ? { _tag: "Delete", space, key: k }
          : { _tag: "Put", space, key: k, value: utf8(`v${pick(1000)}`) }
      }
      for (let step = 0; step < 200; step++) {
        const batch = Array.from({ length: 1 + pick(5) }, randomOp)
        model.write(batch)
        const r = rng()
        if (r < 0.6) held.defer(batch)
        else {
          // a write carries what is held back first, as the RaftWorker's does
          engine.write([...held.ops, ...batch])
          held.written()
        }
        const context = `seed ${seed}, step ${step} (DEFERRED_WRITES_SEED=${seed} replays it)`
        const space = spaces[pick(spaces.length)]!
        const k = key(pick(60))
        assert.deepStrictEqual(held.get(space, k), model.get(space, k), `get: ${context}`)
        const a = pick(61)
        const b = a + pick(61 - a)
        const range: ScanRange = {
          ...(rng() < 0.8 ? { start: key(a) } : {}),
          ...(rng() < 0.8 ? { end: key(b) } : {}),
          ...(rng() < 0.5 ? { limit: 1 + pick(10) } : {})
        }
        assert.deepStrictEqual(text(held.scan(space, range)), text(model.scan(space, range)), `scan: ${context}`)
      }
      engine.write(held.ops)
      held.written()
      for (const space of spaces)
        assert.deepStrictEqual(text(engine.scan(space)), text(model.scan(space)), `seed ${seed}`)
    }
  })
})
