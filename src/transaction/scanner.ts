/**
 * Scanner: the committed key/value pairs visible at a transaction's timestamp, in key order
 * (TinyKV `mvcc.Scanner`, project 4C).
 *
 * One pass over the write CF from `encodeKey(start, TS_MAX)`: versions of a user key arrive newest
 * first, so the first version with `commitTs <= ts` that is not a rollback decides the key (Put ⇒
 * yield its value, Delete ⇒ skip the key); the key's remaining versions are skipped. Lazy: a scan
 * with a limit reads only as far as it needs.
 */
import { compareBytes } from "../protocol/bytes.js"
import { CF_DEFAULT, CF_LOCK, CF_WRITE } from "../services/Storage.js"
import { MvccCorruption } from "./corruption.js"
import { isLockedFor, type Lock, parseLock } from "./lock.js"
import { decodeTimestamp, decodeUserKey, encodeKey, isVersionOf, TS_MAX } from "./mvccKey.js"
import type { MvccTxn } from "./mvccTxn.js"
import { parseWrite, WriteKind } from "./write.js"

export interface ScanPair {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/** Every user key `>= startKey` with a value visible at `txn.startTs`, once each, ascending. */
export function* scanner(txn: MvccTxn, startKey: Uint8Array): Generator<ScanPair> {
  const { reader, startTs } = txn
  // the encoded user key whose fate is already decided: its older versions are skipped
  let decided: Uint8Array | undefined
  for (const { key: k, value } of reader.iterCF(CF_WRITE, encodeKey(startKey, TS_MAX))) {
    if (decided !== undefined && isVersionOf(k, decided)) continue
    if (decodeTimestamp(k) > startTs) continue
    const write = parseWrite(value)
    if (write.kind === WriteKind.Rollback) continue
    decided = k.subarray(0, k.length - 8)
    if (write.kind === WriteKind.Delete) continue
    const userKey = decodeUserKey(k)
    const v = reader.getCF(CF_DEFAULT, encodeKey(userKey, write.startTs))
    if (v === undefined) {
      throw new MvccCorruption({ message: `committed value missing for write at start ts ${write.startTs}` })
    }
    yield { key: userKey, value: v }
  }
}

export type ScanEntry =
  | { readonly _tag: "Value"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly _tag: "Locked"; readonly key: Uint8Array; readonly lock: Lock }

function* blockingLocks(txn: MvccTxn, startKey: Uint8Array): Generator<{ key: Uint8Array; lock: Lock }> {
  for (const { key, value } of txn.reader.iterCF(CF_LOCK, startKey)) {
    const lock = parseLock(value)
    if (isLockedFor(lock, key, txn.startTs)) yield { key, lock }
  }
}

/**
 * The scanner merged with the locks that block a read at `txn.startTs`. A locked key is reported
 * even when it has no committed version yet: its transaction may commit below our timestamp, and
 * skipping the key would then break snapshot isolation. (TinyKV checks locks only for keys the
 * write CF yields; its tests never tell the difference.)
 */
export function* scanWithLocks(txn: MvccTxn, startKey: Uint8Array): Generator<ScanEntry> {
  const values = scanner(txn, startKey)
  const locks = blockingLocks(txn, startKey)
  // a reader that stops early (a scan's limit) must close both: an open engine cursor pins its snapshot
  try {
    let v = values.next()
    let l = locks.next()
    while (!v.done || !l.done) {
      const c = v.done ? 1 : l.done ? -1 : compareBytes(v.value.key, l.value.key)
      if (c < 0 && !v.done) {
        yield { _tag: "Value", key: v.value.key, value: v.value.value }
        v = values.next()
      } else if (!l.done) {
        yield { _tag: "Locked", key: l.value.key, lock: l.value.lock }
        if (c === 0) v = values.next()
        l = locks.next()
      }
    }
  } finally {
    values.return(undefined)
    locks.return(undefined)
  }
}
