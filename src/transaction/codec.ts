/**
 * The memcomparable encoding of MVCC keys (`src/protocol/memcomparable.ts`), with decoding errors as
 * `MvccCorruption`: a key that does not decode is a corrupt record.
 */
import { type Decoded, decodeMemcomparable } from "../protocol/memcomparable.js"
import { MvccCorruption } from "./corruption.js"

export { type Decoded, encodeBytes, encodedLength } from "../protocol/memcomparable.js"

/** Inverse of `encodeBytes`; throws `MvccCorruption` on a truncated group, bad marker or non-zero padding. */
export const decodeBytes = (b: Uint8Array): Decoded => {
  const r = decodeMemcomparable(b)
  if (typeof r === "string") throw new MvccCorruption({ message: r })
  return r
}
