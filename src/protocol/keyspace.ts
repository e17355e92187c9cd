/**
 * Key spaces and the translation of region bounds into physical key ranges: the ONE place that knows
 * how a user key is laid out in the engine.
 *
 * Raw and transactional data live in separate key spaces (as TiKV's API v2 does): every physical key in
 * the `default`, `lock` and `write` column families starts with one byte naming its space — `r` for the
 * raw API, `x` for transactions — so neither API can read or damage the other's data. Inside a space a
 * key is "space-local": raw keys and transactional locks are the user key itself; the transactional
 * `default` and `write` CFs hold MVCC keys, `memcomparable(userKey) ‖ ~ts`.
 *
 * Region bounds are user keys and cover the same user keys in both spaces. A bound cannot be compared
 * with an MVCC key directly: memcomparable inserts a marker after every 8 bytes, so `"0 00000123"` encodes
 * above the bound `"0 00000150"`. The bound must be encoded too (`localRange`); encoding preserves order
 * and no encoding is a prefix of another, so `k ∈ [start, end)` exactly when every version
 * `encode(k) ‖ ts` lies in `[encode(start), encode(end))`. Every range operation over physical keys —
 * region checks at propose and apply, readers, snapshot build, range clears — goes through here.
 */
import { Schema } from "effect"
import { compareBytes } from "./bytes.js"
import { decodeMemcomparable, encodeBytes } from "./memcomparable.js"

export const KeySpace = Schema.Literal("raw", "txn")
export type KeySpace = typeof KeySpace.Type
export const KEY_SPACES: ReadonlyArray<KeySpace> = ["raw", "txn"]

/** The first byte of every physical data key. */
export const KEY_SPACE_PREFIX: Readonly<Record<KeySpace, number>> = { raw: 0x72, txn: 0x78 } // "r", "x"

/** The data column families (the engine spaces that hold keys of both key spaces). */
export const DATA_CFS = ["default", "lock", "write"] as const

/** A user-key range: `[startKey, endKey)`, an empty end unbounded (a region's bounds). */
export interface UserKeyRange {
  readonly startKey: Uint8Array
  readonly endKey: Uint8Array
}

/** `[start, end)`; an empty `end` is unbounded. */
export interface KeyRange {
  readonly start: Uint8Array
  readonly end: Uint8Array
}

/** Whether the space-local keys of `cf` are MVCC keys (`memcomparable(userKey) ‖ ~ts`). */
export const isMvccCf = (space: KeySpace, cf: string): boolean => space === "txn" && cf !== "lock"

const localBound = (space: KeySpace, cf: string, userKey: Uint8Array): Uint8Array =>
  userKey.length > 0 && isMvccCf(space, cf) ? encodeBytes(userKey) : userKey

/** The space-local keys of `cf` that belong to the user keys of `range` (an empty end stays unbounded). */
export const localRange = (range: UserKeyRange, space: KeySpace, cf: string): KeyRange => ({
  start: localBound(space, cf, range.startKey),
  end: localBound(space, cf, range.endKey)
})

/** `start <= key < end`, an empty end unbounded. */
export const inKeyRange = (key: Uint8Array, r: KeyRange): boolean =>
  compareBytes(key, r.start) >= 0 && (r.end.length === 0 || compareBytes(key, r.end) < 0)

/** `[start, end)` narrowed to `r`; `end` absent or empty means unbounded. */
export const clampToRange = (r: KeyRange, start: Uint8Array, end: Uint8Array | undefined): KeyRange => {
  const from = compareBytes(start, r.start) < 0 ? r.start : start
  const to =
    end === undefined || end.length === 0 ? r.end : r.end.length > 0 && compareBytes(r.end, end) < 0 ? r.end : end
  return { start: from, end: to }
}

/** Whether a space-local key of `cf` belongs to a user key of `range`. */
export const localKeyInRange = (key: Uint8Array, range: UserKeyRange, space: KeySpace, cf: string): boolean =>
  inKeyRange(key, localRange(range, space, cf))

/** The engine key of a space-local key. */
export const physicalKey = (space: KeySpace, local: Uint8Array): Uint8Array => {
  const out = new Uint8Array(local.length + 1)
  out[0] = KEY_SPACE_PREFIX[space]
  out.set(local, 1)
  return out
}

/** The space-local key of an engine key of `space` (a view, no copy). */
export const localKeyOf = (physical: Uint8Array): Uint8Array => physical.subarray(1)

/** The key space an engine key belongs to, or `undefined` for a key in none. */
export const keySpaceOf = (physical: Uint8Array): KeySpace | undefined =>
  physical[0] === KEY_SPACE_PREFIX.raw ? "raw" : physical[0] === KEY_SPACE_PREFIX.txn ? "txn" : undefined

/** A space-local range as engine keys; the end is never empty (an unbounded end stops at the space's end). */
export const physicalOfLocal = (space: KeySpace, r: KeyRange): KeyRange => ({
  start: physicalKey(space, r.start),
  end: r.end.length > 0 ? physicalKey(space, r.end) : new Uint8Array([KEY_SPACE_PREFIX[space] + 1])
})

/** The engine keys of `cf` in `space` that belong to the user keys of `range`. */
export const physicalRange = (range: UserKeyRange, space: KeySpace, cf: string): KeyRange =>
  physicalOfLocal(space, localRange(range, space, cf))

export interface CfRange extends KeyRange {
  readonly cf: (typeof DATA_CFS)[number]
  readonly space: KeySpace
}

/** Every engine range holding data of the user keys of `range`: each data CF in each key space. */
export const physicalRanges = (range: UserKeyRange): ReadonlyArray<CfRange> =>
  DATA_CFS.flatMap((cf) => KEY_SPACES.map((space) => ({ cf, space, ...physicalRange(range, space, cf) })))

/** The user key a space-local key of `cf` stands for, or `undefined` when it is not a valid MVCC key. */
export const userKeyOf = (local: Uint8Array, space: KeySpace, cf: string): Uint8Array | undefined => {
  if (!isMvccCf(space, cf)) return local
  const d = decodeMemcomparable(local)
  return typeof d === "string" || d.rest.length !== 8 ? undefined : d.data
}
