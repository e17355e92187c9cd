/**
 * How full an lmdb environment is, and what a failed commit means (see `storageLmdb.ts`).
 *
 * "Full" is any of: less than `minFreeBytes` free on the file system under the environment's path (statfs);
 * the pages in use at `quotaBytes - reserveBytes` (with a quota); a write that found no room, until the
 * file system has room again. A write finds no room on ENOSPC or MDB_MAP_FULL, and on any failed commit
 * while less than 1 MiB is free (a full tmpfs reports EIO).
 */
import { statfsSync } from "node:fs"
import { Effect } from "effect"
import type { Database, RootDatabase } from "lmdb"
import { DiskFull, StorageError } from "../protocol/errorpb.js"

type Db = Database<Buffer, Buffer>

const messageOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

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
  /** The address space to map the file into at open (default `DEFAULT_MAP_BYTES` of `storageLmdb.ts`). */
  readonly mapBytes?: number
  /**
   * Small writes commit synced on the calling thread, not on lmdb's write thread (`storageLmdb.ts`): for an
   * engine with one writer that waits for each write, as a raftstore's RaftWorker. Default false: writes of one
   * event-loop turn share one commit, which suits many concurrent writers (a standalone store).
   */
  readonly inlineCommits?: boolean
}

export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024

/**
 * What a failed commit was. lmdb-js reports it as "Commit failed (see commitError for details)" with the
 * OS error in a promise (`commitError`); on a full tmpfs that error is EIO rather than ENOSPC, so a failure
 * while the file system is (nearly) out of space counts as no room too.
 */
export const commitFailure = async (e: unknown, space: SpaceWatch): Promise<DiskFull | StorageError> => {
  const pending = (e as { commitError?: unknown } | null)?.commitError
  const inner =
    pending instanceof Promise
      ? await pending.then(
          () => undefined,
          (x: unknown) => x
        )
      : undefined
  const cause = inner ?? e
  if (isNoSpace(cause) || isNoSpace(e) || space.outOfSpace()) {
    space.noSpace(messageOf(cause))
    return new DiskFull({ reason: `a write found no room: ${messageOf(cause)}` })
  }
  return new StorageError({ message: `engine write failed: ${messageOf(cause)}` })
}

/** lmdb-js (3.5) also rejects internal promises of a failed commit that nobody holds. */
const isLmdbCommitFailure = (e: unknown): boolean =>
  e instanceof Error && e.message.startsWith("Commit failed (see commitError")

/**
 * While the environment is open, a failed commit's orphaned promises must not end the process (Node ends
 * it on an unhandled rejection): they are dropped here — the write that failed is answered by
 * `commitFailure`. Any other unhandled rejection is thrown on, as Node would without this handler.
 */
export const guardCommitFailures = Effect.acquireRelease(
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

export interface SpaceWatch {
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
export const spaceWatch = (
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
