/**
 * Lock records: the `lock` column family's values (TinyKV `mvcc/lock.go`).
 *
 * Stored at the raw user key, the value is `primary ‖ kind (1 byte) ‖ startTs (8 BE) ‖ ttl (8 BE)`.
 * A lock says "transaction `ts` has prewritten this key; its fate is decided by the lock (or write)
 * on `primary`". `ttl` is in milliseconds of physical time (`ts >> 18`).
 */
import { bytesEqual } from "../protocol/bytes.js"
import type { LockInfo } from "../protocol/kvrpc.js"
import { type Timestamp, timestamp } from "../protocol/ids.js"
import { MvccCorruption } from "./corruption.js"
import { physicalTime } from "../services/Tso.js"
import { TS_MAX } from "./mvccKey.js"
import { type WriteKind, WriteKind as Kinds } from "./write.js"

export interface Lock {
  readonly primary: Uint8Array
  readonly ts: Timestamp
  /** Milliseconds of physical time the lock stays valid after `ts`. */
  readonly ttl: number
  readonly kind: WriteKind
}

export const lockToBytes = (lock: Lock): Uint8Array => {
  const n = lock.primary.length
  const out = new Uint8Array(n + 17)
  out.set(lock.primary, 0)
  out[n] = lock.kind
  const view = new DataView(out.buffer)
  view.setBigUint64(n + 1, lock.ts)
  view.setBigUint64(n + 9, BigInt(lock.ttl))
  return out
}

export const parseLock = (b: Uint8Array): Lock => {
  // TinyKV rejects len <= 16; an exactly-17-byte lock has an empty primary
  if (b.length < 17) throw new MvccCorruption({ message: `lock record of ${b.length} bytes` })
  const n = b.length - 17
  const kind = b[n]!
  if (kind !== Kinds.Put && kind !== Kinds.Delete && kind !== Kinds.Rollback) {
    throw new MvccCorruption({ message: `unknown lock kind ${kind}` })
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    primary: b.slice(0, n),
    kind,
    ts: timestamp(view.getBigUint64(n + 1)),
    ttl: Number(view.getBigUint64(n + 9))
  }
}

/** What a reader blocked by this lock is told (`KeyError.locked`). */
export const lockInfo = (lock: Lock, key: Uint8Array): LockInfo => ({
  primaryLock: lock.primary,
  lockVersion: lock.ts,
  key,
  lockTtl: lock.ttl
})

/**
 * Whether the lock on `key` blocks a read at `readTs`: a lock from a transaction that started
 * after the read cannot commit before it, so only `lock.ts <= readTs` blocks. Reads at `TS_MAX`
 * ("latest committed") only wait for primary locks, as in TinyKV `IsLockedFor`.
 */
export const isLockedFor = (lock: Lock, key: Uint8Array, readTs: bigint): boolean =>
  lock.ts <= readTs && (readTs !== TS_MAX || bytesEqual(key, lock.primary))

/** Expired ⇔ `physical(lock.ts) + ttl <= physical(currentTs)`: TTLs count wall-clock ms, not logical ticks. */
export const isExpired = (lock: Lock, currentTs: bigint): boolean =>
  physicalTime(lock.ts) + BigInt(lock.ttl) <= physicalTime(currentTs)
