/**
 * How small records are stored in an engine: a protocol Schema's encoded form packed as plain msgpack
 * (no record extension: stored bytes must not depend on structures shared across writes), validated
 * by the Schema when read back. Used by the raftstore and the scheduler alike.
 */
import { Data, Schema } from "effect"
import { Packr, RESET_BUFFER_MODE, Unpackr } from "msgpackr"
import { compileCheck } from "./fastSchema.js"

/**
 * Stored bytes that do not decode to their record: a damaged engine, or a record from another store (a raft
 * log entry or snapshot) that was corrupted on its way. Thrown by `decode`, always this one error, so callers
 * can tell corruption from a bug.
 */
export class CorruptRecord extends Data.TaggedError("CorruptRecord")<{
  readonly record: string
  readonly reason: string
}> {
  override get message(): string {
    return `corrupt ${this.record} record: ${this.reason}`
  }
}

const packr = new Packr({ useRecords: false })

/**
 * Packs into msgpackr's one working buffer (`RESET_BUFFER_MODE`: the next pack writes over it) and copies the
 * bytes out to a buffer of their own. By default msgpackr hands out a view into a working buffer it fills
 * pack after pack and then replaces (1.2 MB each once a large record grew it): the command of a Raft entry
 * kept in a log held a whole one (docs/PERFORMANCE.md, "Entries that held a megabyte each").
 */
const packOwn = (value: unknown): Uint8Array => new Uint8Array(packr.pack(value, RESET_BUFFER_MODE))
const unpackr = new Unpackr({ useRecords: false })

/**
 * `record` names the record in errors. A record the Schema's compiled check accepts (`fastSchema.ts`: a Schema
 * without transformations, whose encoded form is its value) skips the Schema's interpreter both ways — the
 * command of every Raft entry is encoded once when proposed and decoded on every replica when applied, and the
 * interpreter allocated ~9 KB per command each way (docs/PERFORMANCE.md); anything else, and every refusal,
 * still goes through the Schema.
 */
export const storedCodec = <A, I>(schema: Schema.Schema<A, I>, record = "stored") => {
  const encode = Schema.encodeSync(schema)
  const decode = Schema.decodeUnknownEither(schema)
  const check = compileCheck(schema.ast)
  return {
    encode: (a: A): Uint8Array => packOwn(check?.(a) === true ? a : encode(a)),
    /** The record, or throws `CorruptRecord`. */
    decode: (b: Uint8Array): A => {
      let raw: unknown
      try {
        raw = unpackr.unpack(b)
      } catch (e) {
        throw new CorruptRecord({ record, reason: e instanceof Error ? e.message : String(e) })
      }
      if (check?.(raw) === true) return raw as A
      const decoded = decode(raw)
      if (decoded._tag === "Left") throw new CorruptRecord({ record, reason: decoded.left.message })
      return decoded.right
    }
  }
}

/** An unsigned 64-bit counter as 8 big-endian bytes (high-water marks). */
export const encodeU64 = (n: bigint): Uint8Array => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}
export const decodeU64 = (b: Uint8Array): bigint => {
  if (b.length !== 8) throw new CorruptRecord({ record: "u64", reason: `${b.length} bytes, not 8` })
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0)
}
