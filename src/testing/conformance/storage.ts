/**
 * The `Storage` conformance suite: the contract every engine must pass (byte-wise order, atomic
 * batches, snapshot readers, copied values, durability across reopen). Run it on your own engine with
 * `storageConformance("mine", () => ({ layer, reopen }))` inside a vitest file.
 */
import { Effect, Exit, Layer, Scope } from "effect"
import type { StorageError } from "../../protocol/errorpb.js"
import { compareBytes, fromUtf8, utf8 } from "../../protocol/bytes.js"
import { Storage, type WriteOp } from "../../services/Storage.js"
import { type Assert, vitest } from "./vitest.js"

const put = (space: "default" | "lock" | "write" | "meta" | "raft", k: string | Uint8Array, v: string): WriteOp => ({
  _tag: "Put",
  space,
  key: typeof k === "string" ? utf8(k) : k,
  value: utf8(v)
})
const del = (space: "default" | "lock" | "write", k: string): WriteOp => ({ _tag: "Delete", space, key: utf8(k) })
const str = (b: Uint8Array | undefined) => (b === undefined ? undefined : fromUtf8(b))

export interface StorageEngineUnderTest {
  readonly name: string
  /** A fresh, empty engine per test; `reopen` gives the same files again when the engine persists. */
  readonly fresh: () => { layer: Layer.Layer<Storage, StorageError>; reopen?: () => Layer.Layer<Storage, StorageError> }
}

/** The suite on `fresh()` engines: each test builds one; `reopen`, when given, must open the same data again. */
export const storageConformance = (name: string, fresh: StorageEngineUnderTest["fresh"]) =>
  storageSuite({ name, fresh })

/** As `storageConformance`, with the engine as one object. */
export const storageSuite = (engine: StorageEngineUnderTest) => {
  const { describe, it } = vitest()
  const assert: Assert = vitest().assert
  return describe(`Storage conformance: ${engine.name}`, () => {
    const run = <A, E>(f: (s: Storage["Type"]) => Effect.Effect<A, E, Scope.Scope>) =>
      Effect.scoped(Effect.flatMap(Storage, f)).pipe(Effect.provide(engine.fresh().layer))

    it.effect("get returns what a batch put, per column family", () =>
      run((s) =>
        Effect.gen(function* () {
          yield* s.write([put("default", "k", "d"), put("write", "k", "w"), put("lock", "k", "l")], { sync: true })
          assert.strictEqual(str(yield* s.get("default", utf8("k"))), "d")
          assert.strictEqual(str(yield* s.get("write", utf8("k"))), "w")
          assert.strictEqual(str(yield* s.get("lock", utf8("k"))), "l")
          assert.strictEqual(yield* s.get("meta", utf8("k")), undefined)
          assert.strictEqual(yield* s.get("default", utf8("absent")), undefined)
        })
      )
    )

    it.effect("a later op in one batch wins, deletes remove", () =>
      run((s) =>
        Effect.gen(function* () {
          yield* s.write([
            put("default", "a", "1"),
            put("default", "a", "2"),
            put("default", "b", "x"),
            del("default", "b")
          ])
          assert.strictEqual(str(yield* s.get("default", utf8("a"))), "2")
          assert.strictEqual(yield* s.get("default", utf8("b")), undefined)
          yield* s.write([del("default", "never-there")])
        })
      )
    )

    it.effect("iteration is byte-wise ordered and honours [start, end) and limit", () =>
      run((s) =>
        Effect.gen(function* () {
          const keys = [
            [0x00],
            [0x00, 0x00],
            [0x01, 0xff],
            [0xff],
            [0xff, 0xff, 0xff],
            [0x61, 0x62],
            [0x01],
            [0x80],
            [0x01, 0x80]
          ]
          const shuffled = [...keys].sort(() => 0.5 - Math.random())
          yield* s.write(shuffled.map((k) => put("default", new Uint8Array(k), "v")))
          const all = (yield* s.scan("default")).map((kv) => Array.from(kv.key))
          const expected = keys
            .map((k) => new Uint8Array(k))
            .sort(compareBytes)
            .map((k) => Array.from(k))
          assert.deepStrictEqual(all, expected)
          const mid = (yield* s.scan("default", { start: new Uint8Array([0x01]), end: new Uint8Array([0x80]) })).map(
            (kv) => Array.from(kv.key)
          )
          assert.deepStrictEqual(mid, [[0x01], [0x01, 0x80], [0x01, 0xff], [0x61, 0x62]])
          const limited = yield* s.scan("default", { start: new Uint8Array([0x01]), limit: 2 })
          assert.deepStrictEqual(
            limited.map((kv) => Array.from(kv.key)),
            [[0x01], [0x01, 0x80]]
          )
          // spaces do not leak into each other
          assert.strictEqual((yield* s.scan("write")).length, 0)
        })
      )
    )

    it.effect("a reader opened before a delete still sees the key (snapshot isolation)", () =>
      run((s) =>
        Effect.gen(function* () {
          yield* s.write([put("default", "a", "1"), put("default", "b", "2"), put("default", "c", "3")])
          const reader = yield* s.snapshot
          yield* s.write([del("default", "b"), put("default", "a", "changed"), put("default", "d", "new")])
          assert.strictEqual(str(reader.get("default", utf8("b"))), "2")
          assert.strictEqual(str(reader.get("default", utf8("a"))), "1")
          assert.strictEqual(reader.get("default", utf8("d")), undefined)
          assert.deepStrictEqual(
            Array.from(reader.scan("default")).map((kv) => fromUtf8(kv.key)),
            ["a", "b", "c"]
          )
          // and the live state moved on
          assert.strictEqual(yield* s.get("default", utf8("b")), undefined)
          assert.deepStrictEqual(
            (yield* s.scan("default")).map((kv) => fromUtf8(kv.key)),
            ["a", "c", "d"]
          )
        })
      )
    )

    it.effect("an iterator created before writes keeps yielding the old state", () =>
      run((s) =>
        Effect.gen(function* () {
          yield* s.write(Array.from({ length: 50 }, (_, i) => put("default", `k${String(i).padStart(3, "0")}`, "v")))
          const reader = yield* s.snapshot
          const it = reader.scan("default")
          const first = it.next()
          assert.isFalse(first.done)
          yield* s.write([del("default", "k010"), put("default", "k0105", "inserted")])
          const rest = Array.from(it).map((kv) => fromUtf8(kv.key))
          assert.strictEqual(rest.length, 49)
          assert.include(rest, "k010")
          assert.notInclude(rest, "k0105")
        })
      )
    )

    it.effect("delete range removes exactly [start, end) and is atomic with the batch", () =>
      run((s) =>
        Effect.gen(function* () {
          yield* s.write(Array.from({ length: 1000 }, (_, i) => put("default", String(i).padStart(4, "0"), "v")))
          yield* s.write([
            { _tag: "DeleteRange", space: "default", start: utf8("0100"), end: utf8("0200") },
            put("lock", "marker", "x")
          ])
          const keys = (yield* s.scan("default")).map((kv) => fromUtf8(kv.key))
          assert.strictEqual(keys.length, 900)
          assert.include(keys, "0099")
          assert.include(keys, "0200")
          assert.notInclude(keys, "0100")
          assert.notInclude(keys, "0199")
          assert.strictEqual(str(yield* s.get("lock", utf8("marker"))), "x")
          // an empty end means "to the end of the space"
          yield* s.write([{ _tag: "DeleteRange", space: "default", start: utf8("0900"), end: new Uint8Array() }])
          assert.strictEqual((yield* s.scan("default")).length, 800)
        })
      )
    )

    it.effect("a batch with an invalid op fails whole: nothing of it is applied", () =>
      run((s) =>
        Effect.gen(function* () {
          yield* s.write([put("default", "before", "1")])
          // engines reject empty keys (LMDB cannot store them); the valid ops around it must not land
          const bad: WriteOp = { _tag: "Put", space: "default", key: new Uint8Array(0), value: utf8("x") }
          const exit = yield* Effect.exit(s.write([put("default", "a", "1"), bad, put("default", "b", "2")]))
          assert.isTrue(Exit.isFailure(exit))
          assert.strictEqual(yield* s.get("default", utf8("a")), undefined)
          assert.strictEqual(yield* s.get("default", utf8("b")), undefined)
          assert.strictEqual(str(yield* s.get("default", utf8("before"))), "1")
        })
      )
    )

    it.effect("values are copied: mutating the caller's buffer after a write changes nothing", () =>
      run((s) =>
        Effect.gen(function* () {
          const value = utf8("abc")
          yield* s.write([{ _tag: "Put", space: "default", key: utf8("k"), value }])
          value[0] = 0x7a
          assert.strictEqual(str(yield* s.get("default", utf8("k"))), "abc")
        })
      )
    )

    const { reopen } = engine.fresh()
    if (reopen !== undefined) {
      it.effect("synced data survives close and reopen", () =>
        Effect.gen(function* () {
          const { layer, reopen: again } = engine.fresh()
          yield* Effect.scoped(
            Effect.flatMap(Storage, (s) =>
              s.write([put("default", "durable", "yes"), put("raft", new Uint8Array([1, 2, 3]), "log")], { sync: true })
            ).pipe(Effect.provide(layer))
          )
          const scope = yield* Scope.make()
          const s = yield* Layer.buildWithScope(again!(), scope).pipe(
            Effect.map((ctx) => ctx.unsafeMap.get(Storage.key) as Storage["Type"])
          )
          assert.strictEqual(str(yield* s.get("default", utf8("durable"))), "yes")
          assert.strictEqual(str(yield* s.get("raft", new Uint8Array([1, 2, 3]))), "log")
          yield* Scope.close(scope, Exit.void)
        })
      )
    }
  })
}
