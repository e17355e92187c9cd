/**
 * How small records are stored in an engine: a protocol Schema's encoded form packed as plain msgpack
 * (no record extension: stored bytes must not depend on structures shared across writes), validated
 * by the Schema when read back. Used by the raftstore and the scheduler alike.
 */
import { Schema } from "effect"
import { Packr, Unpackr } from "msgpackr"

const packr = new Packr({ useRecords: false })
const unpackr = new Unpackr({ useRecords: false })

export const storedCodec = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encodeSync(schema)
  const decode = Schema.decodeUnknownSync(schema)
  return {
    encode: (a: A): Uint8Array => packr.pack(encode(a)),
    decode: (b: Uint8Array): A => decode(unpackr.unpack(b))
  }
}

/** An unsigned 64-bit counter as 8 big-endian bytes (high-water marks). */
export const encodeU64 = (n: bigint): Uint8Array => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}
export const decodeU64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0)
