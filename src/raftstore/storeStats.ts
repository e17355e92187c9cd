/**
 * What a store tells the scheduler about its disk in every store heartbeat: the file system's capacity
 * and free space under the engine's directory, and the bytes the engine's files take. balance-region
 * and the dashboard read these; a store on the memory engine (no directory) reports the machine's
 * memory instead, and the regions' approximate sizes as its used bytes.
 */
import { Effect } from "effect"
import { readdir, stat, statfs } from "node:fs/promises"
import { freemem, totalmem } from "node:os"
import { join } from "node:path"

export interface DiskStats {
  readonly capacity: number
  readonly available: number
  readonly usedSize: number
}

/** Bytes of every file under `dir`, recursively; a file that vanishes while counted counts as 0. */
const directoryBytes = async (dir: string): Promise<number> => {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) total += await directoryBytes(path)
    else if (entry.isFile())
      total += await stat(path).then(
        (s) => s.size,
        () => 0
      )
  }
  return total
}

/**
 * The disk figures for an engine at `path` (undefined: an in-memory engine, whose used size is
 * `regionBytes`). Never fails: a heartbeat with unknown figures (0) is better than none.
 */
export const diskStats = (path: string | undefined, regionBytes: number): Effect.Effect<DiskStats> => {
  if (path === undefined) {
    return Effect.sync(() => ({ capacity: totalmem(), available: freemem(), usedSize: regionBytes }))
  }
  return Effect.tryPromise(async () => {
    const fs = await statfs(path)
    return {
      capacity: fs.blocks * fs.bsize,
      available: fs.bavail * fs.bsize,
      usedSize: await directoryBytes(path)
    }
  }).pipe(Effect.orElseSucceed(() => ({ capacity: 0, available: 0, usedSize: regionBytes })))
}
