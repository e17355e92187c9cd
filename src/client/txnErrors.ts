/**
 * What a client transaction can fail with, besides the `KvError`s of the calls it makes.
 *
 * These never cross the wire (the server reports per-key `KeyError`s in response bodies), so they
 * are `Data.TaggedError`s. All three mean "this attempt is over; nothing of it is visible"; run the
 * whole transaction again with a new start timestamp (see `transact`).
 */
import { Data } from "effect"
import type { LockInfo } from "../protocol/kvrpc.js"
import type { Timestamp } from "../protocol/ids.js"

/** Another transaction committed a write to `key` at `conflictTs`, after this one started at `startTs`. */
export class WriteConflict extends Data.TaggedError("WriteConflict")<{
  readonly key: Uint8Array
  readonly startTs: Timestamp
  readonly conflictTs: Timestamp
  readonly primary: Uint8Array
}> {}

/** A live transaction kept `lock.key` locked for longer than the lock-wait budget. */
export class KeyIsLocked extends Data.TaggedError("KeyIsLocked")<{ readonly lock: LockInfo }> {}

/**
 * The transaction cannot commit: it was rolled back (its primary lock expired and someone else
 * rolled it back), a store refused it, or it was already committed or rolled back by the caller.
 */
export class TxnAborted extends Data.TaggedError("TxnAborted")<{
  readonly startTs: Timestamp
  readonly reason: string
}> {}

export type TxnFailure = WriteConflict | KeyIsLocked | TxnAborted

/** True for the failures that a fresh attempt of the same transaction may not hit. */
export const isRetryable = (e: unknown): e is TxnFailure =>
  e instanceof WriteConflict || e instanceof KeyIsLocked || e instanceof TxnAborted
