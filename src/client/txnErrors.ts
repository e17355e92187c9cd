/**
 * What a client transaction can fail with, besides the `KvError`s of the calls it makes.
 *
 * These never cross the wire (the server reports per-key `KeyError`s in response bodies), so they
 * are `Data.TaggedError`s. All three mean "this attempt is over; nothing of it is visible"; run the
 * whole transaction again with a new start timestamp (see `transact`).
 */
import { Data } from "effect"
import { showKey } from "../protocol/bytes.js"
import type { LockInfo } from "../protocol/kvrpc.js"
import type { Timestamp } from "../protocol/ids.js"

/** Another transaction committed a write to `key` at `conflictTs`, after this one started at `startTs`. */
export class WriteConflict extends Data.TaggedError("WriteConflict")<{
  readonly key: Uint8Array
  readonly startTs: Timestamp
  readonly conflictTs: Timestamp
  readonly primary: Uint8Array
}> {
  override get message(): string {
    return (
      `write conflict on key ${showKey(this.key)}: another transaction committed it (at ts ${this.conflictTs}) ` +
      `after this one started (at ts ${this.startTs}); nothing was committed, retrying the transaction may help`
    )
  }
}

/** A live transaction kept `lock.key` locked for longer than the lock-wait budget. */
export class KeyIsLocked extends Data.TaggedError("KeyIsLocked")<{ readonly lock: LockInfo }> {
  override get message(): string {
    return (
      `key ${showKey(this.lock.key)} is locked by a transaction that is still running (started at ts ` +
      `${this.lock.lockVersion}); nothing was committed, retrying later may help`
    )
  }
}

/**
 * The transaction cannot commit: it was rolled back (its primary lock expired and someone else
 * rolled it back), a store refused it, or it was already committed or rolled back by the caller.
 */
export class TxnAborted extends Data.TaggedError("TxnAborted")<{
  readonly startTs: Timestamp
  readonly reason: string
}> {
  override get message(): string {
    return `the transaction (started at ts ${this.startTs}) was aborted (${this.reason}); nothing was committed, retrying it may help`
  }
}

export type TxnFailure = WriteConflict | KeyIsLocked | TxnAborted

/** True for the failures that a fresh attempt of the same transaction may not hit. */
export const isRetryable = (e: unknown): e is TxnFailure =>
  e instanceof WriteConflict || e instanceof KeyIsLocked || e instanceof TxnAborted
