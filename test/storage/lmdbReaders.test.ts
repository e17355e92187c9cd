/**
 * Readers that stop early leave no read transaction behind. An lmdb cursor holds its transaction until it is
 * finished or closed, even after the snapshot's scope released it; while it is held LMDB reuses no page freed
 * by a later write, and the file grows with every write (a store's data file reached 451 MB for 167 MB of data).
 * Each test stops a reader early, writes on, and reads the environment's reader table: no reader may still
 * hold the transaction the reader had.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { open } from "lmdb"
import { assert } from "vitest"
import { layerLmdb } from "../../src/layers/storageLmdb.js"
import { utf8 } from "../../src/protocol/bytes.js"
import type { RegionId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import { measureRegion } from "../../src/raftstore/splitCheck.js"
import { Storage } from "../../src/services/Storage.js"
import type { Timestamp } from "../../src/protocol/ids.js"
import type { KvReader } from "../../src/services/KvStorage.js"
import { encodeKey } from "../../src/transaction/mvccKey.js"
import { MvccTxn } from "../../src/transaction/mvccTxn.js"
import { scanWithLocks } from "../../src/transaction/scanner.js"
import { WriteKind, writeToBytes } from "../../src/transaction/write.js"

/** The transaction ids the environment's readers hold now (lmdb's `readerList()`), and the last one written. */
const readersOf = (dir: string) => {
  const env = open({ path: dir, readOnly: true, maxDbs: 16 })
  const held = [...env.readerList().matchAll(/^\s*\d+\s+[0-9a-f]+\s+(\d+)\s*$/gm)].map((m) => Number(m[1]))
  return { held, last: (env.getStats() as { lastTxnId: number }).lastTxnId }
}

/** After later writes, no reader holds a transaction up to `before` (the one the stopped reader had). */
const assertNoneHeldUpTo = (dir: string, before: number) => {
  const after = readersOf(dir)
  assert.isAbove(after.last, before, "written on since")
  assert.deepStrictEqual(
    after.held.filter((t) => t <= before),
    [],
    `readers ${after.held} of transactions up to ${before}`
  )
}

const withLmdb = <A, E>(body: (dir: string) => Effect.Effect<A, E, Storage>) => {
  const dir = mkdtempSync(join(tmpdir(), "tinykv-lmdb-readers-"))
  return body(dir).pipe(
    Effect.provide(layerLmdb(dir)),
    Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  )
}

/** Writes `n` batches of 100 raw keys of 100 bytes (one transaction each). */
const writeBatches = (n: number, from = 0) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    for (let b = from; b < from + n; b++) {
      yield* storage.write(
        Array.from({ length: 100 }, (_, i) => ({
          _tag: "Put" as const,
          space: "default" as const,
          key: physicalKey("raw", utf8(`k${String(b * 100 + i).padStart(6, "0")}`)),
          value: new Uint8Array(100).fill(1)
        }))
      )
    }
  })

it.effect.skipIf(process.platform !== "linux")(
  "two snapshots taken at one moment, both released: neither holds on",
  () =>
    withLmdb((dir) =>
      Effect.gen(function* () {
        const storage = yield* Storage
        yield* writeBatches(2)
        const before = readersOf(dir).last
        // taken together, they share lmdb's read transaction; released one after the other
        yield* Effect.scoped(
          Effect.gen(function* () {
            const a = yield* storage.snapshot
            yield* Effect.scoped(
              Effect.flatMap(storage.snapshot, (b) => Effect.sync(() => b.get("default", utf8("x"))))
            )
            a.get("default", utf8("x"))
          })
        )
        yield* writeBatches(5, 2)
        assertNoneHeldUpTo(dir, before)
      })
    )
)

it.effect.skipIf(process.platform !== "linux")("a split check that stops early holds no snapshot after it", () =>
  withLmdb((dir) =>
    Effect.gen(function* () {
      const storage = yield* Storage
      yield* writeBatches(20)
      const before = readersOf(dir).last
      const measured = yield* Effect.scoped(
        Effect.flatMap(storage.snapshot, (reader) =>
          measureRegion(
            reader,
            {
              id: 1 as RegionId,
              startKey: new Uint8Array(0),
              endKey: new Uint8Array(0),
              regionEpoch: { confVer: 1, version: 1 },
              peers: []
            },
            { _tag: "BySize", splitSize: 1_000, maxSize: 1_500 }
          )
        )
      )
      assert.isFalse(measured.complete, "the walk stopped early")
      yield* writeBatches(5, 20)
      assertNoneHeldUpTo(dir, before)
    })
  )
)

it.effect.skipIf(process.platform !== "linux")("a transactional scan left after its first key holds no snapshot", () =>
  withLmdb((dir) =>
    Effect.gen(function* () {
      const storage = yield* Storage
      // 100 keys committed at 20 (write CF: the key at its commit ts, the record; default CF: the value at 10)
      const user = (i: number) => utf8(`t${String(i).padStart(3, "0")}`)
      yield* storage.write(
        Array.from({ length: 100 }, (_, i) => [
          {
            _tag: "Put" as const,
            space: "write" as const,
            key: encodeKey(user(i), 20n),
            value: writeToBytes({ kind: WriteKind.Put, startTs: 10n as Timestamp })
          },
          { _tag: "Put" as const, space: "default" as const, key: encodeKey(user(i), 10n), value: utf8("v") }
        ]).flat()
      )
      yield* writeBatches(2)
      const before = readersOf(dir).last
      let seen = 0
      yield* Effect.scoped(
        Effect.flatMap(storage.snapshot, (reader) =>
          Effect.sync(() => {
            const kv: KvReader = {
              getCF: (cf, key) => reader.get(cf, key),
              iterCF: (cf, start, end) => reader.scan(cf, { start, ...(end === undefined ? {} : { end }) })
            }
            for (const _ of scanWithLocks(new MvccTxn(kv, 100n as Timestamp), new Uint8Array(0))) {
              seen++
              break
            }
          })
        )
      )
      assert.strictEqual(seen, 1)
      yield* writeBatches(5, 2)
      assertNoneHeldUpTo(dir, before)
    })
  )
)
