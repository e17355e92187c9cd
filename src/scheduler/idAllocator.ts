/**
 * Unique, increasing ids for stores, regions and peers (TinyKV `scheduler/server/id`). The persisted
 * value is an upper bound: every id below it may have been handed out. Ids are reserved a batch at a
 * time, so one synced write covers `STEP` allocations; a restart skips the rest of the batch.
 */
import { encodeU64, KEY_ALLOC_ID, type WriteLog } from "./persist.js"

/** TinyKV's `allocStep`. */
export const ALLOC_STEP = 1000

export class IdAllocator {
  /** The last id handed out. */
  private base: number
  /** Persisted bound: ids in `(base, end]` may be handed out without another write. */
  private end: number

  constructor(
    persistedEnd: number,
    private readonly log: WriteLog,
    private readonly step = ALLOC_STEP
  ) {
    this.base = persistedEnd
    this.end = persistedEnd
  }

  /** The next id; the first ever is 1. */
  alloc(): number {
    if (this.base >= this.end) this.reserve(this.base + this.step)
    this.base += 1
    return this.base
  }

  /** Makes sure no later id is ≤ `id` (ids chosen outside the allocator, e.g. by a bootstrap request). */
  ensureAbove(id: number): void {
    if (id <= this.base) return
    this.base = id
    if (this.base >= this.end) this.reserve(this.base + this.step)
  }

  private reserve(end: number): void {
    this.end = end
    this.log.put(KEY_ALLOC_ID, encodeU64(BigInt(end)), true)
  }
}
