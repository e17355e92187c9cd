/**
 * MvccTxn: one command's view of MVCC state (TinyKV `mvcc.MvccTxn`).
 *
 * Reads go to a `KvReader` snapshot; writes are buffered as `Modify`s and never read back (a
 * command decides everything from the snapshot, so a repeated key in one request sees the same
 * state twice and writes the same records twice, which is harmless). The handler applies `writes`
 * in one batch. Pure and synchronous: no Effect, no clock.
 */
import { CF_DEFAULT, CF_LOCK, CF_WRITE } from "../services/Storage.js"
import type { KvReader, Modify } from "../services/KvStorage.js"
import type { Timestamp } from "../protocol/ids.js"
import { encodeBytes } from "./codec.js"
import { type Lock, lockToBytes, parseLock } from "./lock.js"
import { decodeTimestamp, encodeKey, isVersionOf, TS_MAX, versionsEnd } from "./mvccKey.js"
import { MvccCorruption } from "./corruption.js"
import { parseWrite, type Write, WriteKind, writeToBytes } from "./write.js"

export interface CommittedWrite {
  readonly write: Write
  readonly commitTs: Timestamp
}

export interface KeyLock {
  readonly key: Uint8Array
  readonly lock: Lock
}

/** The versions of `key` in the write CF with commit ts <= `fromTs`, newest first. */
export function* writeVersions(reader: KvReader, key: Uint8Array, fromTs: bigint = TS_MAX): Generator<CommittedWrite> {
  const enc = encodeBytes(key)
  for (const { key: k, value } of reader.iterCF(CF_WRITE, encodeKey(key, fromTs), versionsEnd(key))) {
    // the range bound already restricts to this user key; the check guards against a buggy engine
    if (!isVersionOf(k, enc)) return
    yield { write: parseWrite(value), commitTs: decodeTimestamp(k) }
  }
}

/** Every lock held by the transaction that started at `startTs` (a full scan of the lock CF). */
export const allLocksForTxn = (reader: KvReader, startTs: bigint): Array<KeyLock> => {
  const out: Array<KeyLock> = []
  for (const { key, value } of reader.iterCF(CF_LOCK, new Uint8Array(0))) {
    const lock = parseLock(value)
    if (lock.ts === startTs) out.push({ key, lock })
  }
  return out
}

export class MvccTxn {
  private readonly buffer: Array<Modify> = []

  constructor(
    readonly reader: KvReader,
    readonly startTs: Timestamp
  ) {}

  /** The buffered modifications, in the order they were made. */
  get writes(): ReadonlyArray<Modify> {
    return this.buffer
  }

  // --- write CF ---

  putWrite(key: Uint8Array, commitTs: bigint, write: Write): void {
    this.buffer.push({ _tag: "Put", cf: CF_WRITE, key: encodeKey(key, commitTs), value: writeToBytes(write) })
  }

  /** The write of THIS transaction (`write.startTs === startTs`) on `key`, committed or rolled back, if any. */
  currentWrite(key: Uint8Array): CommittedWrite | undefined {
    for (const cw of writeVersions(this.reader, key)) {
      // commit ts >= start ts for every record, so older versions cannot belong to this txn
      if (cw.commitTs < this.startTs) return undefined
      if (cw.write.startTs === this.startTs) return cw
    }
    return undefined
  }

  /** The newest write on `key` whatever its transaction (the prewrite conflict check). */
  mostRecentWrite(key: Uint8Array): CommittedWrite | undefined {
    for (const cw of writeVersions(this.reader, key)) return cw
    return undefined
  }

  // --- lock CF ---

  getLock(key: Uint8Array): Lock | undefined {
    const v = this.reader.getCF(CF_LOCK, key)
    return v === undefined ? undefined : parseLock(v)
  }

  putLock(key: Uint8Array, lock: Lock): void {
    this.buffer.push({ _tag: "Put", cf: CF_LOCK, key, value: lockToBytes(lock) })
  }

  deleteLock(key: Uint8Array): void {
    this.buffer.push({ _tag: "Delete", cf: CF_LOCK, key })
  }

  // --- default CF ---

  /**
   * The value of `key` visible at `startTs`: the newest write with commit ts <= startTs decides —
   * Put ⇒ its value, Delete ⇒ none; Rollback records are skipped (TiKV semantics).
   */
  getValue(key: Uint8Array): Uint8Array | undefined {
    for (const { write } of writeVersions(this.reader, key, this.startTs)) {
      if (write.kind === WriteKind.Rollback) continue
      if (write.kind === WriteKind.Delete) return undefined
      const value = this.reader.getCF(CF_DEFAULT, encodeKey(key, write.startTs))
      if (value === undefined) {
        throw new MvccCorruption({ message: `committed value missing for write at start ts ${write.startTs}` })
      }
      return value
    }
    return undefined
  }

  putValue(key: Uint8Array, value: Uint8Array): void {
    this.buffer.push({ _tag: "Put", cf: CF_DEFAULT, key: encodeKey(key, this.startTs), value })
  }

  deleteValue(key: Uint8Array): void {
    this.buffer.push({ _tag: "Delete", cf: CF_DEFAULT, key: encodeKey(key, this.startTs) })
  }
}
