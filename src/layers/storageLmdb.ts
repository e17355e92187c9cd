/**
 * The lmdb engine (live `Storage`): one LMDB environment per store, one sub-database per space.
 *
 * Writes go through lmdb's asynchronous transactions: every batch written in the same event-loop
 * turn commits in one LMDB transaction, which is a free group commit for concurrent clients. A
 * synced write also waits for `flushed` (with lmdb's default overlapping sync, a commit is visible
 * before it is durable). With `inlineCommits` (a raftstore's engine), small writes commit synced on
 * the calling thread instead (see `write`). Reads are synchronous. The measured costs are in docs/PERFORMANCE.md
 * and pitfalls (empty keys rejected, keys ≤ 1978 bytes, long read transactions grow the file).
 *
 * Disk space (`lmdbDiskSpace.ts`): lmdb grows its map by itself, so "full" means the file system is, or
 * the pages in use reach the optional `quotaBytes`. A write that finds no room fails with `DiskFull` and
 * writes nothing; `diskFull` reports the store full until the space is back (checked every second, and
 * after every write).
 */
import { mkdirSync } from "node:fs"
import { Effect, Layer, Schedule, Scope } from "effect"
import { type Database, open, type RootDatabase, type Transaction } from "lmdb"
import { DiskFull, StorageError } from "../protocol/errorpb.js"
import { commitFailure, guardCommitFailures, type LmdbOptions, spaceWatch } from "./lmdbDiskSpace.js"
import {
  type EngineReader,
  invalidOp,
  type KeyValue,
  type ScanRange,
  SPACES,
  type Space,
  Storage,
  type WriteOp
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

/**
 * At most this many ops and bytes of keys and values commit on the calling thread (see `write`): a round of a
 * lightly loaded raftstore (a sequential put writes its entry, the raft state and the apply held back). A larger
 * write means a loaded store, whose event loop has better to do than wait out an fsync: with every write of
 * up to 1,024 ops inline, 64 clients of puts lost about a tenth of their throughput (docs/PERFORMANCE.md).
 */
const INLINE_MAX_OPS = 8
/**
 * The same for a caller with nothing to do until its write is done (`WriteOptions.idle`: a follower's round,
 * whose acknowledgement waits for the write). Handing a round of 20 appended entries to the write thread cost
 * a loaded follower more CPU than the whole commit inline (a thread woken, a task and its callbacks per
 * commit): inline, the `cpu` suite's 64 clients of puts ran 1.12× faster (geometric mean of 15 alternated
 * pairs; docs/PERFORMANCE.md). The bytes limit still sends a large catch-up append to the write thread.
 */
const IDLE_INLINE_MAX_OPS = 1024
const INLINE_MAX_BYTES = 64 * 1024

/** Whether a write of `ops` commits on the calling thread of an engine opened with `inlineCommits`. */
export const commitsInline = (ops: ReadonlyArray<WriteOp>, idle: boolean): boolean => {
  if (ops.length > (idle ? IDLE_INLINE_MAX_OPS : INLINE_MAX_OPS)) return false
  let bytes = 0
  for (const op of ops) bytes += op._tag === "Put" ? op.key.length + op.value.length : 0
  return bytes <= INLINE_MAX_BYTES
}

const messageOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

const fail = (what: string) => (cause: unknown) => new StorageError({ message: `${what}: ${messageOf(cause)}` })

export { DEFAULT_MIN_FREE_BYTES, isNoSpace, type LmdbOptions } from "./lmdbDiskSpace.js"

const CLOSE_TIMEOUT = "5 seconds"

/**
 * The address space reserved for the map up front: 64 GiB of virtual memory, not of disk (without a write map
 * LMDB grows the file only as pages are used). lmdb-js otherwise starts at 128 KiB and, each time the map
 * fills, maps the file again twice as large while the earlier mappings stay: the same file pages were then
 * counted once per mapping in the process's RSS (docs/PERFORMANCE.md, "One map, not ten"). A larger store
 * still works: lmdb-js grows the map past this as before.
 */
export const DEFAULT_MAP_BYTES = 64 * 1024 ** 3

/** How often the free space is checked when nothing is written. */
const SPACE_CHECK_INTERVAL = "1 second"

/** Opens (creating if needed) the environment at `path`; closed when the layer's scope closes. */
export const layerLmdb = (path: string, options: LmdbOptions = {}): Layer.Layer<Storage, StorageError> =>
  Layer.scoped(
    Storage,
    Effect.gen(function* () {
      // one entry per snapshot taken, not per transaction: lmdb-js hands every reader of one moment the same
      // shared read transaction, counted once per taker, so each taking must be given back once (a Set of
      // transactions kept one entry for two takers and gave back one: the other held the snapshot for good,
      // and LMDB reused no page freed after it — a store's file grew to three times its data)
      const readers = new Set<{ readonly txn: Transaction }>()
      yield* guardCommitFailures
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
              mapSize: options.mapBytes ?? DEFAULT_MAP_BYTES,
              keyEncoding: "binary",
              encoding: "binary"
            })
          },
          catch: fail(`cannot open the lmdb environment at ${path}`)
        }),
        (db) =>
          Effect.promise(() => {
            // a reader still open when the store stops would keep the environment from closing
            for (const taken of readers) taken.txn.done()
            readers.clear()
            return db.close()
          }).pipe(
            // lmdb-js (3.5) never finishes closing when the last commit failed (a full disk): the process
            // must still be able to stop; the environment is left to the OS, and LMDB needs no clean close
            Effect.timeoutOption(CLOSE_TIMEOUT),
            Effect.flatMap((closed) =>
              closed._tag === "Some"
                ? Effect.void
                : Effect.logWarning(`the lmdb environment at ${path} did not close within ${CLOSE_TIMEOUT}`)
            )
          )
      )
      const dbs = new Map<Space, Db>(
        SPACES.map((s) => [s, root.openDB<Buffer, Buffer>(s, { keyEncoding: "binary", encoding: "binary" })] as const)
      )
      const db = (s: Space): Db => dbs.get(s)!
      const space = spaceWatch(path, root, [...dbs.values()], options)
      yield* Effect.forkScoped(Effect.sync(space.check).pipe(Effect.repeat(Schedule.spaced(SPACE_CHECK_INTERVAL))))
      const readerOf = (txn: Transaction): EngineReader => ({
        get: (space, key) => db(space).get(Buffer.from(key), { transaction: txn }),
        scan: (space, range) => toKeyValues(db(space).getRange(rangeOptions(range, txn)))
      })
      return Storage.of({
        get: (space, key) =>
          Effect.try({ try: () => db(space).get(Buffer.from(key)), catch: fail("engine get failed") }),
        scan: (space, range) =>
          Effect.try({
            try: () => Array.from(toKeyValues(db(space).getRange(rangeOptions(range)))),
            catch: fail("engine scan failed")
          }),
        write: (ops, writeOptions) =>
          Effect.tryPromise({
            try: async () => {
              const invalid = ops.map(invalidOp).find((m) => m !== undefined)
              if (invalid !== undefined) throw new Error(`rejected: ${invalid}`)
              const overQuota = space.overQuota(ops)
              if (overQuota !== undefined) throw new DiskFull({ reason: overQuota })
              try {
                const apply = () => {
                  for (const op of ops) {
                    const d = db(op.space)
                    if (op._tag === "Put") void d.put(Buffer.from(op.key), Buffer.from(op.value))
                    else if (op._tag === "Delete") void d.remove(Buffer.from(op.key))
                    else {
                      const keys = Array.from(d.getKeys(rangeOptions({ start: op.start, end: op.end })))
                      for (const k of keys) void d.remove(k)
                    }
                  }
                }
                const rootDb = root as RootDatabase<Buffer, Buffer>
                // With `inlineCommits`, a small write commits here and now, synced, before this call returns: half
                // the CPU of a commit handed to lmdb's write thread, and no turns of a busy event loop before the
                // disk sees it and after it is done (docs/PERFORMANCE.md, "Commits on the calling thread"). The
                // thread waits out the fsync, which its one writer (a raftstore's round) waits for anyway. So does a
                // larger write from a caller with nothing else to do (`idle`: a loaded follower's round). Any other
                // larger write (a loaded leader's round, a snapshot's data) still goes to the write thread; without
                // the option, concurrent writers share one commit per event turn.
                if (options.inlineCommits === true && commitsInline(ops, writeOptions?.idle === true))
                  rootDb.transactionSync(apply)
                else {
                  await rootDb.transaction(apply)
                  if (writeOptions?.sync) await root.flushed
                }
              } catch (e) {
                throw await commitFailure(e, space)
              }
            },
            catch: (cause) =>
              cause instanceof DiskFull || cause instanceof StorageError ? cause : fail("engine write failed")(cause)
          }).pipe(Effect.ensuring(Effect.sync(space.written))),
        diskFull: () => space.reason(),
        latest: {
          get: (space, key) => db(space).get(Buffer.from(key)),
          // NB: a non-snapshot range renews its read transaction as it goes, so it never pins pages
          scan: (space, range) => toKeyValues(db(space).getRange({ ...rangeOptions(range), snapshot: false }))
        },
        // NB: the release is added to the scope directly, not by `Effect.acquireRelease`, whose finalizer
        // diffs and patches the whole FiberRefs of the fiber that runs it — per read, a few % of a leader
        // serving gets (docs/PERFORMANCE.md, "CPU per operation, process by process")
        snapshot: Effect.uninterruptible(
          Effect.flatMap(Effect.scope, (scope) =>
            Effect.flatMap(
              Effect.try({
                try: () => {
                  const taken = { txn: root.useReadTransaction() }
                  readers.add(taken)
                  return taken
                },
                catch: fail("cannot open a read transaction")
              }),
              (taken) =>
                Effect.as(
                  Scope.addFinalizer(
                    scope,
                    Effect.sync(() => {
                      if (readers.delete(taken)) taken.txn.done()
                    })
                  ),
                  readerOf(taken.txn)
                )
            )
          )
        ),
        readNow: (f) => {
          let txn: Transaction
          try {
            txn = root.useReadTransaction()
          } catch (e) {
            throw fail("cannot open a read transaction")(e)
          }
          try {
            return f(readerOf(txn))
          } finally {
            txn.done()
          }
        },
        path
      })
    })
  )
