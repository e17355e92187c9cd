/**
 * MVCC keys for the `default` and `write` column families (TinyKV `mvcc.EncodeKey`).
 *
 * `encodeKey(k, ts) = encodeBytes(k) ++ BE64(^ts)`: ascending by user key, then DESCENDING by
 * timestamp, so a seek to `encodeKey(k, ts)` lands on the newest version of `k` at or before `ts`.
 * The `lock` column family uses raw user keys: there is at most one lock per key.
 */
import { type Timestamp, timestamp } from "../protocol/ids.js"
import { decodeBytes, encodeBytes, encodedLength } from "./codec.js"
import { MvccCorruption } from "./corruption.js"

const U64_MASK = (1n << 64n) - 1n

/** The largest timestamp: reads at `TS_MAX` see every committed version. */
export const TS_MAX: Timestamp = timestamp(U64_MASK)

export const encodeKey = (userKey: Uint8Array, ts: bigint): Uint8Array => {
  const out = encodeBytes(userKey, 8)
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(out.length - 8, ~ts & U64_MASK)
  return out
}

/** The user key of an MVCC key; throws `MvccCorruption` when `key` is not one. */
export const decodeUserKey = (key: Uint8Array): Uint8Array => {
  const { data, rest } = decodeBytes(key)
  if (rest.length !== 8) throw new MvccCorruption({ message: `MVCC key has a ${rest.length}-byte timestamp` })
  return data
}

/** The timestamp of an MVCC key: the last 8 bytes, inverted. */
export const decodeTimestamp = (key: Uint8Array): Timestamp => {
  if (key.length < 8) throw new MvccCorruption({ message: "MVCC key shorter than its timestamp" })
  const v = new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(key.length - 8)
  return timestamp(~v & U64_MASK)
}

/**
 * The half-open range holding every version of `userKey`: `[encodeKey(userKey, TS_MAX), end)`.
 * `end` is the encoded key with its last marker byte incremented; markers of a final group are at
 * most 0xFE, and encodings are prefix-free, so nothing else falls in between.
 */
export const versionsEnd = (userKey: Uint8Array): Uint8Array => {
  const enc = encodeBytes(userKey)
  enc[enc.length - 1] = enc[enc.length - 1]! + 1
  return enc
}

/** True when `mvccKey` is a version of the user key whose encoding is `encodedUserKey`. */
export const isVersionOf = (mvccKey: Uint8Array, encodedUserKey: Uint8Array): boolean => {
  if (mvccKey.length !== encodedUserKey.length + 8) return false
  for (let i = 0; i < encodedUserKey.length; i++) if (mvccKey[i] !== encodedUserKey[i]) return false
  return true
}

export { encodedLength }
