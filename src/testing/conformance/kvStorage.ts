/**
 * The `KvStorage` conformance suite: what the transaction and raw handlers rely on from the storage
 * under them (see `services/KvStorage.ts`), standalone or replicated.
 *
 * - An acknowledged write is seen by every reader taken after it, per column family.
 * - In one batch, ops apply in order (a later op on a key wins); deleting an absent key is fine.
 * - `iterCF` is ascending, honours `[start, end)` (absent or empty `end`: unbounded), stays in its column
 *   family, and can be stopped early.
 * - A reader is a snapshot: writes after it was taken do not show in it, nor in an iterator it made.
 * - A batch is atomic for readers: none sees part of one.
 * - Concurrent writes are all applied; the caller's buffers may be reused once `write` returns.
 *
 * The suite writes and reads the raw key space (`protocol/keyspace.ts`), and checks that the transactional
 * one stays apart from it.
 *
 * The caller provides a `KvStorageSubject`: the storage and the request context to use for a key (the
 * region, epoch and leader peer for a replicated store; `undefined` where the context is ignored). All
 * keys the suite writes start with "conf-" and lie in one region. Region errors are retried with a fresh
 * context, as a client would. Tests run on the live clock.
 */
import { Effect, Fiber, Schedule, type Scope } from "effect"
import { fromUtf8, utf8 } from "../../protocol/bytes.js"
import { isRegionError } from "../../protocol/errorpb.js"
import type { KeySpace } from "../../protocol/keyspace.js"
import type { Context as RequestContext } from "../../protocol/kvrpc.js"
import type { KvReader, KvStorage, Modify } from "../../services/KvStorage.js"
import type { Cf } from "../../services/Storage.js"
import { type Assert, vitest } from "./vitest.js"

export interface KvStorageSubject {
  readonly storage: KvStorage["Type"]
  /** The request context for reading or writing `key`. */
  readonly context: (key: Uint8Array) => Effect.Effect<RequestContext | undefined, unknown>
}

export interface KvStorageConformanceOptions {
  /** Per-test timeout in ms (default 30 000). */
  readonly timeout?: number
}

const put = (cf: Cf, key: string, value: string): Modify => ({ _tag: "Put", cf, key: utf8(key), value: utf8(value) })
const del = (cf: Cf, key: string): Modify => ({ _tag: "Delete", cf, key: utf8(key) })
const str = (b: Uint8Array | undefined) => (b === undefined ? undefined : fromUtf8(b))
const keysOf = (it: Iterable<{ readonly key: Uint8Array }>) => Array.from(it, (kv) => fromUtf8(kv.key))

/** Runs the KvStorage suite on the subjects `make` builds (one per test, in the test's scope). */
export const kvStorageConformance = (
  name: string,
  make: Effect.Effect<KvStorageSubject, unknown, Scope.Scope>,
  options: KvStorageConformanceOptions = {}
) => {
  const { describe, it } = vitest()
  const assert: Assert = vitest().assert
  return describe(`KvStorage conformance: ${name}`, () => {
    const timeout = options.timeout ?? 30_000

    /** The subject with `write` and `reader` that fill in the context (taken from the batch's first key). */
    /**
     * The subject with `write` and `reader` that fill in the context (taken afresh for each try) and, as
     * a client does, retry region errors (a leader change, a busy store): the contract leaves those to the
     * caller, and these tests are about what a successful call means.
     */
    const setup = Effect.gen(function* () {
      const { storage, context } = yield* make
      const anyKey = utf8("conf-")
      const retryRegionErrors = Effect.retry({
        schedule: Schedule.intersect(Schedule.recurs(100), Schedule.spaced("50 millis")),
        while: isRegionError
      })
      const inSpace = (space: KeySpace) => ({
        write: (batch: ReadonlyArray<Modify>) =>
          Effect.flatMap(context(batch[0]?.key ?? anyKey), (ctx) => storage.write(ctx, space, batch)).pipe(
            retryRegionErrors
          ),
        reader: Effect.flatMap(context(anyKey), (ctx) => storage.reader(ctx, space)).pipe(
          retryRegionErrors
        ) as Effect.Effect<KvReader, unknown, Scope.Scope>
      })
      return { ...inSpace("raw"), txn: inSpace("txn") }
    })

    it.scopedLive(
      "key spaces are apart: the same key and CF in the raw and the transactional space never meet",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          yield* s.write([put("lock", "conf-s", "raw"), put("default", "conf-s1", "raw only")])
          yield* s.txn.write([put("lock", "conf-s", "txn"), put("write", "conf-s", "txn only")])
          const raw = yield* s.reader
          const txn = yield* s.txn.reader
          assert.strictEqual(str(raw.getCF("lock", utf8("conf-s"))), "raw")
          assert.strictEqual(str(txn.getCF("lock", utf8("conf-s"))), "txn")
          assert.isUndefined(raw.getCF("write", utf8("conf-s")))
          assert.isUndefined(txn.getCF("default", utf8("conf-s1")))
          assert.deepStrictEqual(keysOf(txn.iterCF("default", utf8("conf-"))), [])
          assert.deepStrictEqual(keysOf(raw.iterCF("write", utf8("conf-"))), [])
          yield* s.txn.write([del("lock", "conf-s")])
          assert.strictEqual(str((yield* s.reader).getCF("lock", utf8("conf-s"))), "raw")
        }),
      timeout
    )

    it.scopedLive(
      "a write is seen by a reader taken after it, per column family",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          yield* s.write([put("default", "conf-k", "d"), put("lock", "conf-k", "l"), put("write", "conf-k", "w")])
          const r = yield* s.reader
          assert.strictEqual(str(r.getCF("default", utf8("conf-k"))), "d")
          assert.strictEqual(str(r.getCF("lock", utf8("conf-k"))), "l")
          assert.strictEqual(str(r.getCF("write", utf8("conf-k"))), "w")
          assert.isUndefined(r.getCF("default", utf8("conf-absent")))
          yield* s.write([del("lock", "conf-k")])
          const after = yield* s.reader
          assert.isUndefined(after.getCF("lock", utf8("conf-k")))
          assert.strictEqual(str(after.getCF("default", utf8("conf-k"))), "d", "other column families untouched")
          assert.strictEqual(str(after.getCF("write", utf8("conf-k"))), "w")
        }),
      timeout
    )

    it.scopedLive(
      "ops in one batch apply in order: a later op on a key wins; deleting an absent key is fine",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          yield* s.write([
            put("default", "conf-a", "1"),
            put("default", "conf-a", "2"),
            put("default", "conf-b", "x"),
            del("default", "conf-b"),
            del("default", "conf-never"),
            put("default", "conf-c", "gone?"),
            del("default", "conf-c"),
            put("default", "conf-c", "back")
          ])
          const r = yield* s.reader
          assert.strictEqual(str(r.getCF("default", utf8("conf-a"))), "2")
          assert.isUndefined(r.getCF("default", utf8("conf-b")))
          assert.strictEqual(str(r.getCF("default", utf8("conf-c"))), "back")
        }),
      timeout
    )

    it.scopedLive(
      "iterCF: ascending, [start, end), unbounded end, one column family, can stop early",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          const keys = ["conf-b", "conf-d", "conf-a", "conf-c", "conf-e", "conf-a0", "conf-b\u00ff"]
          yield* s.write(keys.map((k) => put("default", k, `v-${k}`)))
          yield* s.write([put("lock", "conf-c0", "lock only"), put("write", "conf-a", "write only")])
          const r = yield* s.reader
          const sorted = [...keys].sort((x, y) => Buffer.compare(utf8(x), utf8(y)))
          assert.deepStrictEqual(keysOf(r.iterCF("default", utf8("conf-"))), sorted)
          assert.deepStrictEqual(keysOf(r.iterCF("default", utf8("conf-b"), utf8("conf-d"))), [
            "conf-b",
            "conf-b\u00ff",
            "conf-c"
          ])
          assert.deepStrictEqual(keysOf(r.iterCF("default", utf8("conf-d"), new Uint8Array())), ["conf-d", "conf-e"])
          assert.deepStrictEqual(keysOf(r.iterCF("default", utf8("conf-c"), utf8("conf-c"))), [])
          assert.deepStrictEqual(keysOf(r.iterCF("lock", utf8("conf-"))), ["conf-c0"])
          const values = Array.from(r.iterCF("default", utf8("conf-e")), (kv) => fromUtf8(kv.value))
          assert.deepStrictEqual(values, ["v-conf-e"])
          // a caller may take a few and stop (a scan limit)
          const iterator = r.iterCF("default", utf8("conf-"))
          const firstTwo = [iterator.next(), iterator.next()].map((x) => (x.done ? undefined : fromUtf8(x.value.key)))
          assert.deepStrictEqual(firstTwo, sorted.slice(0, 2))
        }),
      timeout
    )

    it.scopedLive(
      "a reader is a snapshot: later writes show neither in it nor in its iterators",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          yield* s.write(
            Array.from({ length: 20 }, (_, i) => put("default", `conf-${String(i).padStart(2, "0")}`, "old"))
          )
          const before = yield* s.reader
          const iterator = before.iterCF("default", utf8("conf-"))
          assert.isFalse(iterator.next().done)
          yield* s.write([
            del("default", "conf-05"),
            put("default", "conf-00", "new"),
            put("default", "conf-055", "inserted"),
            put("lock", "conf-05", "locked")
          ])
          assert.strictEqual(str(before.getCF("default", utf8("conf-05"))), "old")
          assert.strictEqual(str(before.getCF("default", utf8("conf-00"))), "old")
          assert.isUndefined(before.getCF("default", utf8("conf-055")))
          assert.isUndefined(before.getCF("lock", utf8("conf-05")))
          const rest = keysOf(iterator)
          assert.strictEqual(rest.length, 19)
          assert.include(rest, "conf-05")
          assert.notInclude(rest, "conf-055")
          const after = yield* s.reader
          assert.isUndefined(after.getCF("default", utf8("conf-05")))
          assert.strictEqual(str(after.getCF("default", utf8("conf-00"))), "new")
          assert.strictEqual(str(after.getCF("lock", utf8("conf-05"))), "locked")
        }),
      timeout
    )

    it.scopedLive(
      "batches are atomic for readers: none sees part of one",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          const batch = (i: number) => [
            put("default", "conf-x", String(i)),
            put("lock", "conf-x", String(i)),
            put("write", "conf-y", String(i)),
            put("default", "conf-z", String(i))
          ]
          yield* s.write(batch(0))
          const writer = yield* Effect.fork(
            Effect.forEach(
              Array.from({ length: 30 }, (_, i) => i + 1),
              (i) => s.write(batch(i)),
              { discard: true }
            )
          )
          let reads = 0
          while (reads < 5 || writer.unsafePoll() === null) {
            const seen = yield* Effect.scoped(
              Effect.map(s.reader, (r) =>
                [
                  r.getCF("default", utf8("conf-x")),
                  r.getCF("lock", utf8("conf-x")),
                  r.getCF("write", utf8("conf-y")),
                  r.getCF("default", utf8("conf-z"))
                ].map(str)
              )
            )
            assert.strictEqual(new Set(seen).size, 1, `one batch's values, saw ${seen}`)
            reads++
            // pacing only: a macrotask pause lets an engine's IO completions (the writer's) run between reads
            yield* Effect.sleep("1 millis")
          }
          yield* Fiber.join(writer)
          assert.strictEqual(str((yield* s.reader).getCF("default", utf8("conf-z"))), "30")
        }),
      timeout
    )

    it.scopedLive(
      "concurrent writes are all applied and seen by the next reader",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          yield* Effect.forEach(
            Array.from({ length: 40 }, (_, i) => i),
            (i) => s.write([put("default", `conf-c${String(i).padStart(2, "0")}`, String(i))]),
            { concurrency: "unbounded", discard: true }
          )
          const r = yield* s.reader
          assert.strictEqual(keysOf(r.iterCF("default", utf8("conf-c"), utf8("conf-d"))).length, 40)
        }),
      timeout
    )

    it.scopedLive(
      "the caller's buffers may be reused once write returns",
      () =>
        Effect.gen(function* () {
          const s = yield* setup
          const key = utf8("conf-buf")
          const value = utf8("abc")
          yield* s.write([{ _tag: "Put", cf: "default", key, value }])
          value[0] = 0x7a
          key[5] = 0x7a
          const r = yield* s.reader
          assert.strictEqual(str(r.getCF("default", utf8("conf-buf"))), "abc")
          assert.isUndefined(r.getCF("default", utf8("conf-zuf")))
        }),
      timeout
    )
  })
}
