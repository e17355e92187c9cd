/**
 * The timestamp oracle (TinyKV `scheduler/server/tso`): `physical ms << 18 | logical`, strictly
 * increasing for the life of the data directory.
 *
 * Persisted is a ceiling a window ahead of every physical time handed out. After a restart the
 * oracle starts at that ceiling, so every new timestamp is above every old one even if the clock
 * went back meanwhile. While running it never goes back either: physical time is
 * `max(clock, last physical)`, and when the 2^18 logical values of a millisecond run out it moves to
 * the next millisecond rather than waiting for the clock (the ceiling keeps that safe).
 */
import type { Timestamp } from "../protocol/ids.js"
import { composeTs, MAX_LOGICAL } from "../services/Tso.js"
import { fail, ok, type Result } from "./errors.js"
import { encodeU64, KEY_TSO, type WriteLog } from "./persist.js"

/** How far ahead the ceiling is saved: one synced write per window (TinyKV's `tso-save-interval`). */
export const TSO_SAVE_WINDOW_MS = 3_000n

export class TimestampOracle {
  private physical: bigint
  private logical = 0n
  private ceiling: bigint

  constructor(
    persistedCeilingMs: bigint,
    private readonly log: WriteLog
  ) {
    this.physical = persistedCeilingMs
    this.ceiling = persistedCeilingMs
  }

  /** Reserves `count` consecutive timestamps at wall-clock time `nowMs` and returns the last one. */
  next(count: number, nowMs: number): Result<Timestamp> {
    if (!Number.isInteger(count) || count <= 0) return fail("UNKNOWN", `tso count must be positive, got ${count}`)
    const n = BigInt(count)
    if (n >= MAX_LOGICAL) return fail("UNKNOWN", `tso count must be below ${MAX_LOGICAL}, got ${count}`)
    const now = BigInt(Math.floor(nowMs))
    if (now > this.physical) {
      this.physical = now
      this.logical = 0n
    }
    if (this.logical + n >= MAX_LOGICAL) {
      this.physical += 1n
      this.logical = 0n
    }
    if (this.physical >= this.ceiling) {
      this.ceiling = this.physical + TSO_SAVE_WINDOW_MS
      this.log.put(KEY_TSO, encodeU64(this.ceiling), true)
    }
    this.logical += n
    return ok(composeTs(this.physical, this.logical))
  }
}
