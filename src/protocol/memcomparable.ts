/**
 * Memcomparable byte encoding (TinyKV `kv/util/codec`, MyRocks "memcomparable format").
 *
 * The data is cut into 8-byte groups; each group is followed by a marker `0xFF - padCount`, and the
 * last group is zero-padded (a length that is a multiple of 8 gets an extra all-zero group with
 * marker 0xF7). Byte-wise order of encodings equals byte-wise order of the inputs, and no encoding
 * is a prefix of another, which is what lets an MVCC key append a timestamp without breaking the
 * user-key order — and what lets `keyspace.ts` translate a region's user-key bounds into bounds on
 * encoded keys.
 *
 * It lives in `protocol` because both the transactions and the raftstore (region bounds of the MVCC
 * column families) need it.
 */

const GROUP = 8
const MARKER = 0xff

/** Length of `encodeBytes(data)` for `data.length === n`. */
export const encodedLength = (n: number): number => (Math.floor(n / GROUP) + 1) * (GROUP + 1)

/** Encodes `data`, leaving `extra` zeroed bytes at the end for the caller (the MVCC key's timestamp). */
export const encodeBytes = (data: Uint8Array, extra = 0): Uint8Array => {
  const len = encodedLength(data.length)
  const out = new Uint8Array(len + extra)
  let o = 0
  for (let i = 0; i <= data.length; i += GROUP) {
    const remain = data.length - i
    const take = Math.min(remain, GROUP)
    out.set(data.subarray(i, i + take), o)
    // the padding bytes are already zero
    out[o + GROUP] = MARKER - (GROUP - take)
    o += GROUP + 1
  }
  return out
}

export interface Decoded {
  readonly data: Uint8Array
  /** The bytes after the encoded value. */
  readonly rest: Uint8Array
}

/** Inverse of `encodeBytes`; a string says why `b` is not an encoding (truncated group, bad marker or padding). */
export const decodeMemcomparable = (b: Uint8Array): Decoded | string => {
  const chunks: Array<Uint8Array> = []
  let size = 0
  let o = 0
  for (;;) {
    if (b.length - o < GROUP + 1) return `insufficient bytes to decode value: ${b.length - o}`
    const marker = b[o + GROUP]!
    const pad = MARKER - marker
    if (pad > GROUP) return `invalid marker byte ${marker}`
    const real = GROUP - pad
    chunks.push(b.subarray(o, o + real))
    size += real
    for (let i = o + real; i < o + GROUP; i++) {
      if (b[i] !== 0) return "invalid padding byte"
    }
    o += GROUP + 1
    if (pad !== 0) break
  }
  const data = new Uint8Array(size)
  let d = 0
  for (const c of chunks) {
    data.set(c, d)
    d += c.length
  }
  return { data, rest: b.subarray(o) }
}
