/**
 * TinyKV project 1 (StandaloneKV, `kv/server/server_test.go`): the raw handlers over the standalone
 * KvStorage, on the memory engine and on lmdb.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { layerStandalone } from "../../src/layers/kvStorageStandalone.js"
import { layerLmdb } from "../../src/layers/storageLmdb.js"
import { layerMemory } from "../../src/layers/storageMemory.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { makeRawHandlers } from "../../src/server/rawHandlers.js"
import { KvStorage } from "../../src/services/KvStorage.js"

const b = (n: number) => new Uint8Array([n])

const engines = {
  memory: () => layerStandalone.pipe(Layer.provide(layerMemory)),
  lmdb: () => layerStandalone.pipe(Layer.provide(layerLmdb(mkdtempSync(join(tmpdir(), "tinykv-raw-")))))
} as const

for (const [name, make] of Object.entries(engines)) {
  describe(`raw KV handlers (${name})`, () => {
    const run = <A, E>(
      f: (h: Effect.Effect.Success<typeof makeRawHandlers>, s: KvStorage["Type"]) => Effect.Effect<A, E>
    ) =>
      Effect.gen(function* () {
        const h = yield* makeRawHandlers
        const s = yield* KvStorage
        return yield* f(h, s)
      }).pipe(Effect.provide(make()))

    it.effect("TestRawGet1: a value set through storage is read back", () =>
      run((h, s) =>
        Effect.gen(function* () {
          yield* s.write(undefined, "raw", [{ _tag: "Put", cf: "default", key: b(99), value: b(42) }])
          const r = yield* h.RawGet({ key: b(99), cf: "default" })
          assert.isFalse(r.notFound)
          assert.deepStrictEqual(Array.from(r.value!), [42])
        })
      )
    )

    it.effect("TestRawGetNotFound1: an absent key is notFound, not an error", () =>
      run((h) =>
        Effect.gen(function* () {
          const r = yield* h.RawGet({ key: b(99), cf: "default" })
          assert.isTrue(r.notFound)
          assert.isUndefined(r.value)
        })
      )
    )

    it.effect("TestRawPut1: RawPut is visible to a storage reader", () =>
      run((h, s) =>
        Effect.gen(function* () {
          yield* h.RawPut({ key: b(99), value: b(42), cf: "default" })
          const reader = yield* s.reader(undefined, "raw")
          assert.deepStrictEqual(Array.from(reader.getCF("default", b(99))!), [42])
        }).pipe(Effect.scoped)
      )
    )

    it.effect("TestRawGetAfterRawPut1: the same key in two column families is independent", () =>
      run((h) =>
        Effect.gen(function* () {
          yield* h.RawPut({ key: b(99), value: b(42), cf: "default" })
          yield* h.RawPut({ key: b(99), value: b(44), cf: "write" })
          assert.deepStrictEqual(Array.from((yield* h.RawGet({ key: b(99), cf: "default" })).value!), [42])
          assert.deepStrictEqual(Array.from((yield* h.RawGet({ key: b(99), cf: "write" })).value!), [44])
        })
      )
    )

    it.effect("TestRawGetAfterRawDelete1: RawGet after RawDelete is notFound", () =>
      run((h) =>
        Effect.gen(function* () {
          yield* h.RawPut({ key: b(99), value: b(42), cf: "default" })
          yield* h.RawDelete({ key: b(99), cf: "default" })
          assert.isTrue((yield* h.RawGet({ key: b(99), cf: "default" })).notFound)
        })
      )
    )

    it.effect("TestRawDelete1: after RawDelete a reader gets undefined and no error", () =>
      run((h, s) =>
        Effect.gen(function* () {
          yield* s.write(undefined, "raw", [{ _tag: "Put", cf: "default", key: b(99), value: b(42) }])
          yield* h.RawDelete({ key: b(99), cf: "default" })
          const reader = yield* s.reader(undefined, "raw")
          assert.isUndefined(reader.getCF("default", b(99)))
        }).pipe(Effect.scoped)
      )
    )

    it.effect("TestRawScan1: scan from [1] with limit 3 returns keys 1, 2, 3 with values", () =>
      run((h, s) =>
        Effect.gen(function* () {
          yield* s.write(
            undefined,
            "raw",
            [1, 2, 3, 4, 5].map((i) => ({ _tag: "Put" as const, cf: "default" as const, key: b(i), value: b(232 + i) }))
          )
          const pairs = yield* h.RawScan({ startKey: b(1), limit: 3, cf: "default" })
          assert.deepStrictEqual(
            pairs.map((p) => [p.key[0], p.value[0]]),
            [
              [1, 233],
              [2, 234],
              [3, 235]
            ]
          )
        })
      )
    )

    it.effect("TestRawScanAfterRawPut1: a scan sees a key added by RawPut", () =>
      run((h, s) =>
        Effect.gen(function* () {
          yield* s.write(
            undefined,
            "raw",
            [1, 2, 3, 4].map((i) => ({ _tag: "Put" as const, cf: "default" as const, key: b(i), value: b(i) }))
          )
          yield* h.RawPut({ key: b(5), value: b(5), cf: "default" })
          const pairs = yield* h.RawScan({ startKey: b(1), limit: 10, cf: "default" })
          assert.deepStrictEqual(
            pairs.map((p) => p.key[0]),
            [1, 2, 3, 4, 5]
          )
        })
      )
    )

    it.effect("TestRawScanAfterRawDelete1: a scan skips a key removed by RawDelete", () =>
      run((h, s) =>
        Effect.gen(function* () {
          yield* s.write(
            undefined,
            "raw",
            [1, 2, 3, 4].map((i) => ({ _tag: "Put" as const, cf: "default" as const, key: b(i), value: b(i) }))
          )
          yield* h.RawDelete({ key: b(3), cf: "default" })
          const pairs = yield* h.RawScan({ startKey: b(1), limit: 10, cf: "default" })
          assert.deepStrictEqual(
            pairs.map((p) => p.key[0]),
            [1, 2, 4]
          )
        })
      )
    )

    it.effect("TestIterWithRawDelete1: an iterator created before a RawDelete still yields the key", () =>
      run((h, s) =>
        Effect.gen(function* () {
          yield* h.RawPut({ key: b(1), value: b(1), cf: "default" })
          yield* h.RawPut({ key: b(2), value: b(2), cf: "default" })
          const reader = yield* s.reader(undefined, "raw")
          const it = reader.iterCF("default", b(1))
          yield* h.RawDelete({ key: b(1), cf: "default" })
          assert.deepStrictEqual(
            Array.from(it).map((p) => p.key[0]),
            [1, 2]
          )
        }).pipe(Effect.scoped)
      )
    )

    it.effect("scan honours an exclusive end key and limit 0", () =>
      run((h) =>
        Effect.gen(function* () {
          for (const k of ["a", "b", "c", "d"]) yield* h.RawPut({ key: utf8(k), value: utf8(k), cf: "lock" })
          const pairs = yield* h.RawScan({ startKey: utf8("b"), endKey: utf8("d"), limit: 10, cf: "lock" })
          assert.deepStrictEqual(
            pairs.map((p) => fromUtf8(p.key)),
            ["b", "c"]
          )
          assert.strictEqual((yield* h.RawScan({ startKey: utf8("a"), limit: 0, cf: "lock" })).length, 0)
        })
      )
    )

    it.effect("bad input is a typed InvalidArgument and writes nothing", () =>
      run((h) =>
        Effect.gen(function* () {
          const cases = [
            h.RawPut({ key: new Uint8Array(), value: b(1), cf: "default" }),
            h.RawPut({ key: b(1), value: b(1), cf: "nope" }),
            h.RawGet({ key: new Uint8Array(), cf: "default" }),
            h.RawDelete({ key: new Uint8Array(2000), cf: "default" }),
            h.RawScan({ startKey: b(0), limit: 1_000_000, cf: "default" })
          ]
          for (const c of cases) {
            const r = yield* Effect.flip(c as Effect.Effect<unknown, { _tag: string }>)
            assert.strictEqual(r._tag, "InvalidArgument")
          }
          assert.strictEqual((yield* h.RawScan({ startKey: new Uint8Array(), limit: 100, cf: "default" })).length, 0)
        })
      )
    )
  })
}
