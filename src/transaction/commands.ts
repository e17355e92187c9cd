/**
 * The transactional commands as pure functions: `(reader, request) → { response, writes }`
 * (TinyKV `kv/server/server.go` Kv* handlers).
 *
 * Each command reads one snapshot and returns the response plus the modifications to apply
 * atomically. A command that reports a key error returns NO writes: prewrite is all-or-nothing and
 * a failed commit/rollback leaves the store untouched. Check-txn-status is the exception — it
 * reports its decision in `action` and must persist the rollback that decision implies.
 * Latching, snapshot acquisition and the write itself belong to `handlers.ts`.
 */
import type {
  BatchRollbackRequest,
  BatchRollbackResponse,
  CheckTxnStatusRequest,
  CheckTxnStatusResponse,
  CommitRequest,
  CommitResponse,
  GetRequest,
  GetResponse,
  KeyError,
  KvPair,
  PrewriteRequest,
  PrewriteResponse,
  ResolveLockRequest,
  ResolveLockResponse,
  ScanRequest,
  ScanResponse
} from "../protocol/kvrpc.js"
import { type Timestamp, timestamp } from "../protocol/ids.js"
import { SCAN_BYTE_BUDGET } from "../protocol/limits.js"
import type { KvReader, Modify } from "../services/KvStorage.js"
import { isExpired, isLockedFor, lockInfo } from "./lock.js"
import { allLocksForTxn, MvccTxn } from "./mvccTxn.js"
import { scanWithLocks } from "./scanner.js"
import { WriteKind, writeKindFromOp } from "./write.js"

export interface CommandResult<R> {
  readonly response: R
  /** Apply atomically, and only these: empty whenever the response carries a key error. */
  readonly writes: ReadonlyArray<Modify>
}

const readOnly = <R>(response: R): CommandResult<R> => ({ response, writes: [] })

// --- reads ---

/** The value of `key` at `version`; a lock from a transaction that started at or before `version` blocks it. */
export const kvGet = (reader: KvReader, req: GetRequest): CommandResult<GetResponse> => {
  const txn = new MvccTxn(reader, req.version)
  const lock = txn.getLock(req.key)
  if (lock !== undefined && isLockedFor(lock, req.key, req.version)) {
    return readOnly({ error: { locked: lockInfo(lock, req.key) }, notFound: false })
  }
  const value = txn.getValue(req.key)
  return readOnly(value === undefined ? { notFound: true } : { value, notFound: false })
}

/**
 * Up to `limit` pairs from `startKey` at `version`; a blocked key counts as a pair carrying
 * `error.locked`. A page stops early once it holds `SCAN_BYTE_BUDGET` bytes.
 */
export const kvScan = (reader: KvReader, req: ScanRequest): CommandResult<ScanResponse> => {
  const pairs: Array<KvPair> = []
  if (req.limit <= 0) return readOnly({ pairs })
  const txn = new MvccTxn(reader, req.version)
  let bytes = 0
  for (const e of scanWithLocks(txn, req.startKey)) {
    pairs.push(
      e._tag === "Value"
        ? { key: e.key, value: e.value }
        : { key: e.key, value: new Uint8Array(0), error: { locked: lockInfo(e.lock, e.key) } }
    )
    bytes += e.key.length + (e._tag === "Value" ? e.value.length : 0)
    // the byte budget keeps a response frame bounded; a short page does not mean the end
    if (pairs.length >= req.limit || bytes >= SCAN_BYTE_BUDGET) break
  }
  return readOnly({ pairs })
}

// --- prewrite ---

/**
 * Percolator prewrite: for each mutation, a write committed at or after `startVersion` is a
 * write-write conflict, a lock of another transaction blocks; otherwise write the value (or delete
 * it) at `startVersion` and lock the key pointing at the primary. All or nothing.
 */
export const kvPrewrite = (reader: KvReader, req: PrewriteRequest): CommandResult<PrewriteResponse> => {
  const txn = new MvccTxn(reader, req.startVersion)
  const errors: Array<KeyError> = []
  for (const m of req.mutations) {
    const kind = writeKindFromOp(m.op)
    if (kind !== WriteKind.Put && kind !== WriteKind.Delete) {
      // handlers reject these up front (validatePrewrite); kept total for direct callers
      errors.push({ abort: `unsupported mutation op ${m.op}` })
      continue
    }
    const recent = txn.mostRecentWrite(m.key)
    if (recent !== undefined && recent.commitTs >= req.startVersion) {
      errors.push({
        conflict: { startTs: req.startVersion, conflictTs: recent.commitTs, key: m.key, primary: req.primaryLock }
      })
      continue
    }
    const lock = txn.getLock(m.key)
    // our own lock (a retried prewrite) may be overwritten
    if (lock !== undefined && lock.ts !== req.startVersion) {
      errors.push({ locked: lockInfo(lock, m.key) })
      continue
    }
    if (kind === WriteKind.Put) txn.putValue(m.key, m.value)
    else txn.deleteValue(m.key)
    txn.putLock(m.key, { primary: req.primaryLock, ts: req.startVersion, ttl: req.lockTtl, kind })
  }
  return errors.length > 0 ? { response: { errors }, writes: [] } : { response: { errors }, writes: txn.writes }
}

// --- commit / rollback (shared with resolve-lock) ---

/** Commits `keys` of `txn` at `commitTs`; returns the first key error (then the caller writes nothing). */
const commitKeys = (txn: MvccTxn, keys: ReadonlyArray<Uint8Array>, commitTs: Timestamp): KeyError | undefined => {
  for (const key of keys) {
    const lock = txn.getLock(key)
    const current = txn.currentWrite(key)
    if (lock !== undefined && lock.ts === txn.startTs) {
      // A rollback recorded for this transaction decides it, even under a lock of its own: a prewrite decided
      // before the rollback and written after it (see `rollbackKeys`) must not commit what readers saw rolled back
      if (current?.write.kind === WriteKind.Rollback) return { abort: `transaction ${txn.startTs} was rolled back` }
      txn.putWrite(key, commitTs, { startTs: txn.startTs, kind: lock.kind })
      txn.deleteLock(key)
      continue
    }
    if (current !== undefined) {
      if (current.write.kind === WriteKind.Rollback) {
        return { abort: `transaction ${txn.startTs} was rolled back` }
      }
      continue // already committed: a repeated commit is a no-op
    }
    if (lock !== undefined) {
      return { retryable: `key is locked by transaction ${lock.ts}, not ${txn.startTs}` }
    }
    // no lock and no write: the prewrite was lost; committing nothing is correct
  }
  return undefined
}

/** Rolls back `keys` of `txn`, leaving a rollback record on each; fails if any key is already committed. */
const rollbackKeys = (txn: MvccTxn, keys: ReadonlyArray<Uint8Array>): KeyError | undefined => {
  for (const key of keys) {
    const current = txn.currentWrite(key)
    if (current !== undefined && current.write.kind !== WriteKind.Rollback) {
      return { abort: `transaction ${txn.startTs} is already committed at ${current.commitTs}` }
    }
    const lock = txn.getLock(key)
    if (lock !== undefined && lock.ts === txn.startTs) {
      // Also under a rollback record of its own: a prewrite decided before the rollback can be written after it,
      // when its write's wait ended (a command deadline) with its proposal still in the log and its latch let go
      // (the simulator's seed 40186 with --raft-log left such a lock, which no reader could then get past)
      txn.deleteLock(key)
      txn.deleteValue(key)
    } else if (current !== undefined) continue // rolled back already
    // always record the rollback, even without our lock: a delayed prewrite of this txn then
    // meets a write at its own start ts and fails as a conflict instead of locking the key
    txn.putWrite(key, txn.startTs, { startTs: txn.startTs, kind: WriteKind.Rollback })
  }
  return undefined
}

const finish = <R>(txn: MvccTxn, error: KeyError | undefined, ok: R, failed: (e: KeyError) => R): CommandResult<R> =>
  error === undefined ? { response: ok, writes: txn.writes } : readOnly(failed(error))

export const kvCommit = (reader: KvReader, req: CommitRequest): CommandResult<CommitResponse> => {
  const txn = new MvccTxn(reader, req.startVersion)
  return finish<CommitResponse>(txn, commitKeys(txn, req.keys, req.commitVersion), {}, (error) => ({ error }))
}

export const kvBatchRollback = (reader: KvReader, req: BatchRollbackRequest): CommandResult<BatchRollbackResponse> => {
  const txn = new MvccTxn(reader, req.startVersion)
  return finish<BatchRollbackResponse>(txn, rollbackKeys(txn, req.keys), {}, (error) => ({ error }))
}

// --- check-txn-status ---

/**
 * The fate of the transaction `lockTs` as its primary key tells it, deciding it when it can:
 * committed ⇒ `commitVersion`; rolled back ⇒ all zero; locked and alive ⇒ `lockTtl`; lock expired
 * at `currentTs` ⇒ roll the primary back (`TTLExpireRollback`); no lock and no write ⇒ the prewrite
 * never arrived, so record a rollback that keeps a late one out (`LockNotExistRollback`).
 */
export const kvCheckTxnStatus = (
  reader: KvReader,
  req: CheckTxnStatusRequest
): CommandResult<CheckTxnStatusResponse> => {
  const txn = new MvccTxn(reader, req.lockTs)
  const key = req.primaryKey
  const zero = timestamp(0)
  const current = txn.currentWrite(key)
  if (current !== undefined) {
    const commitVersion = current.write.kind === WriteKind.Rollback ? zero : current.commitTs
    return readOnly({ lockTtl: 0, commitVersion, action: "NoAction" })
  }
  const lock = txn.getLock(key)
  const rollback = { startTs: txn.startTs, kind: WriteKind.Rollback } as const
  // a lock of another transaction on the primary says nothing about this one
  if (lock === undefined || lock.ts !== req.lockTs) {
    txn.putWrite(key, txn.startTs, rollback)
    return { response: { lockTtl: 0, commitVersion: zero, action: "LockNotExistRollback" }, writes: txn.writes }
  }
  if (isExpired(lock, req.currentTs)) {
    txn.deleteLock(key)
    txn.deleteValue(key)
    txn.putWrite(key, txn.startTs, rollback)
    return { response: { lockTtl: 0, commitVersion: zero, action: "TTLExpireRollback" }, writes: txn.writes }
  }
  // NB: "locked ⇔ lockTtl > 0" — a live lock always reports at least 1 ms
  return readOnly({ lockTtl: Math.max(lock.ttl, 1), commitVersion: zero, action: "NoAction" })
}

// --- resolve-lock ---

/** The keys `kvResolveLock` would touch: every key locked by transaction `startVersion`. */
export const resolveLockKeys = (reader: KvReader, req: ResolveLockRequest): Array<Uint8Array> =>
  allLocksForTxn(reader, req.startVersion).map((kl) => kl.key)

/**
 * Commits (`commitVersion > 0`) or rolls back (`commitVersion == 0`) the locks of transaction
 * `startVersion` on `keys` — by default every lock it holds in this snapshot. The handler passes
 * the keys it latched, read from an earlier snapshot, so it never writes a key it did not latch.
 */
export const kvResolveLock = (
  reader: KvReader,
  req: ResolveLockRequest,
  keys: ReadonlyArray<Uint8Array> = resolveLockKeys(reader, req)
): CommandResult<ResolveLockResponse> => {
  const txn = new MvccTxn(reader, req.startVersion)
  const error = req.commitVersion === 0n ? rollbackKeys(txn, keys) : commitKeys(txn, keys, req.commitVersion)
  return finish<ResolveLockResponse>(txn, error, {}, (e) => ({ error: e }))
}
