/**
 * The lmdb engine (live `Storage`): one LMDB environment per store, one sub-database per space.
 *
 * Writes go through lmdb's asynchronous transactions: every batch written in the same event-loop
 * turn commits in one LMDB transaction, which is a free group commit for concurrent clients. A
 * synced write also waits for `flushed` (with lmdb's default overlapping sync, a commit is visible
 * before it is durable). Reads are synchronous. The measured costs are in docs/PERFORMANCE.md
 * and pitfalls (empty keys rejected, keys ≤ 1978 bytes, long read transactions grow the file).
 */
import { mkdirSync } from "node:fs"
import { Effect, Layer } from "effect"
import { type Database, open, type RootDatabase, type Transaction } from "lmdb"
import { StorageError } from "../protocol/errorpb.js"
import {
  type EngineReader,
  invalidOp,
  type KeyValue,
  type ScanRange,
  SPACES,
  type Space,
  Storage
} from "../services/Storage.js"

type Db = Database<Buffer, Buffer>

const rangeOptions = (range: ScanRange | undefined, transaction?: Transaction) => ({
  ...(range?.start && range.start.length > 0 ? { start: Buffer.from(range.start) } : {}),
  ...(range?.end && range.end.length > 0 ? { end: Buffer.from(range.end) } : {}),
  ...(range?.limit !== undefined ? { limit: range.limit } : {}),
  ...(transaction ? { transaction } : {})
})

function* toKeyValues(it: Iterable<{ key: Buffer; value: Buffer }>): IterableIterator<KeyValue> {
  for (const { key, value } of it) yield { key, value }
}

const fail = (what: string) => (cause: unknown) =>
  new StorageError({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

/** Opens (creating if needed) the environment at `path`; closed when the layer's scope closes. */
export const layerLmdb = (path: string): Layer.Layer<Storage, StorageError> =>
  Layer.scoped(
    Storage,
    Effect.gen(function* () {
      const readers = new Set<Transaction>()
      const root = yield* Effect.acquireRelease(
        Effect.try({
          try: () => {
            mkdirSync(path, { recursive: true })
            // every read in flight holds a snapshot (a read transaction, one reader slot) until its reply
            // is used; LMDB's default of 126 slots ran out under 64 concurrent clients
            return open<Buffer, Buffer>({
              path,
              maxDbs: 8,
              maxReaders: 1024,
              keyEncoding: "binary",
              encoding: "binary"
            })
          },
          catch: fail(`cannot open the lmdb environment at ${path}`)
        }),
        (db) =>
          Effect.promise(() => {
            // a reader still open when the store stops would keep the environment from closing
            for (const txn of readers) txn.done()
            readers.clear()
            return db.close()
          })
      )
      const dbs = new Map<Space, Db>(
        SPACES.map((s) => [s, root.openDB<Buffer, Buffer>(s, { keyEncoding: "binary", encoding: "binary" })] as const)
      )
      const db = (s: Space): Db => dbs.get(s)!
      return Storage.of({
        get: (space, key) =>
          Effect.try({ try: () => db(space).get(Buffer.from(key)), catch: fail("engine get failed") }),
        scan: (space, range) =>
          Effect.try({
            try: () => Array.from(toKeyValues(db(space).getRange(rangeOptions(range)))),
            catch: fail("engine scan failed")
          }),
        write: (ops, options) =>
          Effect.tryPromise({
            try: async () => {
              const invalid = ops.map(invalidOp).find((m) => m !== undefined)
              if (invalid !== undefined) throw new Error(`rejected: ${invalid}`)
              await (root as RootDatabase<Buffer, Buffer>).transaction(() => {
                for (const op of ops) {
                  const d = db(op.space)
                  if (op._tag === "Put") void d.put(Buffer.from(op.key), Buffer.from(op.value))
                  else if (op._tag === "Delete") void d.remove(Buffer.from(op.key))
                  else {
                    const keys = Array.from(d.getKeys(rangeOptions({ start: op.start, end: op.end })))
                    for (const k of keys) void d.remove(k)
                  }
                }
              })
              if (options?.sync) await root.flushed
            },
            catch: fail("engine write failed")
          }),
        latest: {
          get: (space, key) => db(space).get(Buffer.from(key)),
          // NB: a non-snapshot range renews its read transaction as it goes, so it never pins pages
          scan: (space, range) => toKeyValues(db(space).getRange({ ...rangeOptions(range), snapshot: false }))
        },
        snapshot: Effect.acquireRelease(
          Effect.try({
            try: () => {
              const txn = root.useReadTransaction()
              readers.add(txn)
              return txn
            },
            catch: fail("cannot open a read transaction")
          }),
          (txn) =>
            Effect.sync(() => {
              if (readers.delete(txn)) txn.done()
            })
        ).pipe(
          Effect.map(
            (txn): EngineReader => ({
              get: (space, key) => db(space).get(Buffer.from(key), { transaction: txn }),
              scan: (space, range) => toKeyValues(db(space).getRange(rangeOptions(range, txn)))
            })
          )
        ),
        path
      })
    })
  )
