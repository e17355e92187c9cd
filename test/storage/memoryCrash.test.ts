/** The memory engine's crash model: a crash keeps exactly what synced writes covered. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { Storage } from "../../src/services/Storage.js"

const put = (k: string, v: string) => ({ _tag: "Put", space: "default", key: utf8(k), value: utf8(v) }) as const
const get = (engine: MemoryEngine, k: string) => {
  const v = engine.get("default", utf8(k))
  return v === undefined ? undefined : new TextDecoder().decode(v)
}

describe("memory engine crash model", () => {
  it.scoped("a crash loses the writes after the last sync, and an fsync covers the unsynced writes before it", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine({ modelSync: true })
      const storage = yield* Effect.provide(Storage, layerMemoryFrom(engine))
      yield* storage.write([put("a", "1")], { sync: true })
      yield* storage.write([put("b", "1")], { sync: false })
      yield* storage.write([put("a", "2")], { sync: false })
      assert.strictEqual(engine.unsyncedWrites, 2)
      const reader = yield* storage.snapshot
      engine.crash()
      assert.strictEqual(get(engine, "a"), "1")
      assert.strictEqual(get(engine, "b"), undefined)
      assert.strictEqual(
        new TextDecoder().decode(reader.get("default", utf8("a"))!),
        "2",
        "an open snapshot is unaffected"
      )
      // unsynced, then a synced write: both survive the next crash
      yield* storage.write([put("c", "1")], { sync: false })
      yield* storage.write([put("d", "1")], { sync: true })
      yield* storage.write([put("e", "1")], { sync: false })
      engine.crash()
      assert.deepStrictEqual(
        ["a", "c", "d", "e"].map((k) => get(engine, k)),
        ["1", "1", "1", undefined]
      )
      // the engine keeps working after a crash
      yield* storage.write([put("f", "1")], { sync: true })
      engine.crash()
      assert.strictEqual(get(engine, "f"), "1")
    })
  )

  it("without modelSync there is no crash to simulate", () => {
    assert.throws(() => new MemoryEngine().crash(), /modelSync/)
  })
})
