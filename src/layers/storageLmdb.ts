/**
 * The lmdb engine (live `Storage`): one LMDB environment per store, one sub-database per space.
 *
 * Writes go through lmdb's asynchronous transactions: every batch written in the same event-loop
 * turn commits in one LMDB transaction, which is a free group commit for concurrent clients. A
 * synced write also waits for `flushed` (with lmdb's default overlapping sync, a commit is visible
 * before it is durable). Reads are synchronous. The measured costs are in docs/PERFORMANCE.md
 * and pitfalls (empty keys rejected, keys ≤ 1978 bytes, long read transactions grow the file).
 *
 * Disk space: lmdb grows its map by itself, so "full" means the file system is (a write fails with
 * ENOSPC, or less than `minFreeBytes` is free under `path`), or the pages in use reach the optional
 * `quotaBytes`. A write that finds no room fails with `DiskFull` and writes nothing; `diskFull` reports
 * the store full from then until the space is back (checked every second, and after every write).
 */
import { mkdirSync, statfsSync } from "node:fs"
import { Effect, Layer, Schedule } from "effect"
import { type Database, open, type RootDatabase, type Transaction } from "lmdb"
import { DiskFull, StorageError } from "../protocol/errorpb.js"
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

const messageOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

const fail = (what: string) => (cause: unknown) => new StorageError({ message: `${what}: ${messageOf(cause)}` })

/** Whether an engine or OS failure means "no room": ENOSPC from a file write, or LMDB's MDB_MAP_FULL. */
export const isNoSpace = (cause: unknown): boolean => {
  if (typeof cause !== "object" || cause === null) return false
  const e = cause as { code?: unknown; errno?: unknown; message?: unknown }
  if (e.code === "ENOSPC" || e.code === "MDB_MAP_FULL" || e.errno === -28 || e.errno === -30792) return true
  return typeof e.message === "string" && /ENOSPC|MDB_MAP_FULL|No space left on device/i.test(e.message)
}

export interface LmdbOptions {
  /**
   * Below this many free bytes on the file system under `path`, client writes are refused (the rest is the
   * raftstore's reserve, for its own writes). Default 64 MiB.
   */
  readonly minFreeBytes?: number
  /** The most bytes of pages in use the engine may hold (default: no limit but the disk's). */
  readonly quotaBytes?: number
  /** Below `quotaBytes`, the room kept for the raftstore's own writes (default: a tenth of the quota). */
  readonly reserveBytes?: number
}

export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024

const CLOSE_TIMEOUT = "5 seconds"

/** How often the free space is checked when nothing is written. */
const SPACE_CHECK_INTERVAL = "1 second"

/**
 * What a failed commit was. lmdb-js reports it as "Commit failed (see commitError for details)" with the
 * OS error in a promise (`commitError`); on a full tmpfs that error is EIO rather than ENOSPC, so a failure
 * while the file system is (nearly) out of space counts as no room too.
 */
const commitFailure = async (e: unknown, space: SpaceWatch): Promise<DiskFull | StorageError> => {
  const pending = (e as { commitError?: unknown } | null)?.commitError
  const inner = pending instanceof Promise ? await pending.then(() => undefined, (x: unknown) => x) : undefined
  const cause = inner ?? e
  if (isNoSpace(cause) || isNoSpace(e) || space.outOfSpace()) {
    space.noSpace(messageOf(cause))
    return new DiskFull({ reason: `a write found no room: ${messageOf(cause)}` })
  }
  return fail("engine write failed")(cause)
}

/** lmdb-js (3.5) also rejects internal promises of a failed commit that nobody holds. */
const isLmdbCommitFailure = (e: unknown): boolean =>
  e instanceof Error && e.message.startsWith("Commit failed (see commitError")

/**
 * While the environment is open, a failed commit's orphaned promises must not end the process (Node ends
 * it on an unhandled rejection): they are dropped here — the write that failed is answered by
 * `commitFailure`. Any other unhandled rejection is thrown on, as Node would without this handler.
 */
const guardCommitFailures = Effect.acquireRelease(
  Effect.sync(() => {
    const handler = (reason: unknown) => {
      if (!isLmdbCommitFailure(reason)) throw reason
      const inner = (reason as { commitError?: unknown }).commitError
      if (inner instanceof Promise) inner.catch(() => undefined)
    }
    process.on("unhandledRejection", handler)
    return handler
  }),
  (handler) => Effect.sync(() => void process.off("unhandledRejection", handler))
)

/** Opens (creating if needed) the environment at `path`; closed when the layer's scope closes. */
export const layerLmdb = (path: string, options: LmdbOptions = {}): Layer.Layer<Storage, StorageError> =>
  Layer.scoped(
    Storage,
    Effect.gen(function* () {
      const readers = new Set<Transaction>()
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
              const overQuota = space.overQuota(ops)
              if (overQuota !== undefined) throw new DiskFull({ reason: overQuota })
              try {
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

interface SpaceWatch {
  /** Why client writes are refused now, or undefined. */
  readonly reason: () => string | undefined
  /** Why `ops` must not be written (the quota is used up and it adds data), or undefined. */
  readonly overQuota: (ops: ReadonlyArray<{ readonly _tag: string }>) => string | undefined
  /** A write failed for want of room. */
  readonly noSpace: (message: string) => void
  /** Whether the file system is out of space now (less than 1 MiB, or than `minFreeBytes`, free). */
  readonly outOfSpace: () => boolean
  /** A write ended: the pages in use changed. */
  readonly written: () => void
  /** Looks at the file system's free space (and the quota) again. */
  readonly check: () => void
}

interface PageStats {
  readonly pageSize?: number
  readonly treeBranchPageCount?: number
  readonly treeLeafPageCount?: number
  readonly overflowPages?: number
}

const pagesOf = (s: PageStats): number =>
  (s.treeBranchPageCount ?? 0) + (s.treeLeafPageCount ?? 0) + (s.overflowPages ?? 0)

/**
 * The engine's room: the file system's free space (statfs) and, with a quota, the bytes of the pages its
 * databases use (free pages, which LMDB reuses, do not count — deleting data gives room back).
 */
const spaceWatch = (
  path: string,
  root: RootDatabase<Buffer, Buffer>,
  dbs: ReadonlyArray<Db>,
  options: LmdbOptions
): SpaceWatch => {
  const minFree = options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES
  // a write that found no room is not forgotten before this much is free again
  const roomAgain = Math.max(minFree, 1024 * 1024)
  const quota = options.quotaBytes
  const reserve = options.reserveBytes ?? (quota === undefined ? 0 : Math.floor(quota / 10))
  let usedBytes = 0
  let lowDisk: string | undefined
  let failed: string | undefined
  const measureQuota = () => {
    if (quota === undefined) return
    const top = root.getStats() as PageStats
    let pages = pagesOf(top)
    for (const d of dbs) pages += pagesOf(d.getStats() as PageStats)
    usedBytes = pages * (top.pageSize ?? 4096)
  }
  const check = () => {
    measureQuota()
    let free: number | undefined
    try {
      const fs = statfsSync(path)
      free = fs.bavail * fs.bsize
    } catch {
      free = undefined // unknown: judged by failed writes only
    }
    lowDisk =
      free !== undefined && free < minFree ? `${free} bytes free under ${path} (${minFree} kept in reserve)` : undefined
    // the space is back (a write that still finds none sets it again)
    if (free !== undefined && free >= roomAgain) failed = undefined
  }
  check()
  return {
    reason: () => {
      if (failed !== undefined) return failed
      if (lowDisk !== undefined) return lowDisk
      if (quota !== undefined && usedBytes >= quota - reserve) {
        return `the engine uses ${usedBytes} bytes of its ${quota}-byte quota (${reserve} reserved for raft)`
      }
      return undefined
    },
    overQuota: (ops) => {
      if (quota === undefined || usedBytes < quota || ops.every((op) => op._tag !== "Put")) return undefined
      return `the engine uses ${usedBytes} bytes of its ${quota}-byte quota`
    },
    outOfSpace: () => {
      try {
        const fs = statfsSync(path)
        return fs.bavail * fs.bsize < roomAgain
      } catch {
        return false
      }
    },
    noSpace: (message) => {
      failed = `a write found no room: ${message}`
    },
    written: () => {
      measureQuota()
      if (failed !== undefined) check()
    },
    check
  }
}
