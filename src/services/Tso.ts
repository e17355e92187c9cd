/**
 * Tso: the timestamp oracle. Timestamps are `physical ms << 18 | logical`, strictly increasing.
 * A cluster asks the scheduler; a standalone store runs a local oracle (`layers/tsoLocal.ts`).
 */
import { Context, type Effect } from "effect"
import type { StorageError } from "../protocol/errorpb.js"
import type { Timestamp } from "../protocol/ids.js"

export const PHYSICAL_SHIFT = 18n
export const MAX_LOGICAL = 1n << PHYSICAL_SHIFT

/** Milliseconds since the epoch encoded in a timestamp (TinyKV `PhysicalTime`). */
export const physicalTime = (ts: bigint): bigint => ts >> PHYSICAL_SHIFT
export const composeTs = (physical: bigint, logical: bigint): Timestamp =>
  ((physical << PHYSICAL_SHIFT) | logical) as Timestamp

export class Tso extends Context.Tag("tinykv/Tso")<
  Tso,
  {
    /** Reserves `count` consecutive timestamps and returns the last one. */
    readonly next: (count: number) => Effect.Effect<Timestamp, StorageError>
  }
>() {}
