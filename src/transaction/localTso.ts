/**
 * A timestamp oracle for one process: `physical ms << 18 | logical`, strictly increasing.
 *
 * Each timestamp is `max(now << 18, last + 1)`: it follows the clock when the clock moves and
 * counts logical ticks within a millisecond. Overflowing 2^18 ticks carries into the physical part
 * (borrowing from the future) rather than repeating, and a clock that steps backwards never makes
 * a timestamp go back. A standalone server serves its Tso RPC from this; a cluster asks the
 * scheduler instead.
 */
import { Clock, Effect } from "effect"
import { type Timestamp, timestamp } from "../protocol/ids.js"
import { PHYSICAL_SHIFT } from "../services/Tso.js"

/** The last of `count` consecutive timestamps after `last` at wall-clock `nowMs` (pure; the TSO's step). */
export const nextTimestamp = (last: bigint, nowMs: number, count = 1): Timestamp => {
  const floor = BigInt(Math.max(0, Math.floor(nowMs))) << PHYSICAL_SHIFT
  const first = floor > last ? floor : last + 1n
  return timestamp(first + BigInt(Math.max(1, count)) - 1n)
}

export interface LocalTso {
  /** One fresh timestamp. */
  readonly next: Effect.Effect<Timestamp>
  /** Reserves `count` consecutive timestamps and returns the LAST (as the Tso RPC does; first = last - count + 1). */
  readonly batch: (count: number) => Effect.Effect<Timestamp>
}

/** A TSO over the Effect `Clock` (so `TestClock` drives it in tests). */
export const makeLocalTso: Effect.Effect<LocalTso> = Effect.sync(() => {
  let last = 0n
  const batch = (count: number) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const ts = nextTimestamp(last, now, count)
      last = ts
      return ts
    })
  return { next: batch(1), batch }
})
