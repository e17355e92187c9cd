/**
 * Write records: the `write` column family's values (TinyKV `mvcc/write.go`).
 *
 * Stored at `encodeKey(userKey, commitTs)` (a rollback at `encodeKey(userKey, startTs)`), the value
 * is `kind (1 byte) ‖ startTs (8 bytes BE)`: it says which prewrite's value became visible at
 * `commitTs` (the value lives in `default` at `encodeKey(userKey, startTs)`).
 */
import type { Op } from "../protocol/kvrpc.js"
import { type Timestamp, timestamp } from "../protocol/ids.js"
import { MvccCorruption } from "./corruption.js"

export const WriteKind = { Put: 1, Delete: 2, Rollback: 3 } as const
export type WriteKind = (typeof WriteKind)[keyof typeof WriteKind]

const isWriteKind = (n: number): n is WriteKind => n === 1 || n === 2 || n === 3

export interface Write {
  readonly startTs: Timestamp
  readonly kind: WriteKind
}

export const writeToBytes = (w: Write): Uint8Array => {
  const out = new Uint8Array(9)
  out[0] = w.kind
  new DataView(out.buffer).setBigUint64(1, w.startTs)
  return out
}

export const parseWrite = (b: Uint8Array): Write => {
  if (b.length !== 9) throw new MvccCorruption({ message: `write record of ${b.length} bytes, expected 9` })
  const kind = b[0]!
  if (!isWriteKind(kind)) throw new MvccCorruption({ message: `unknown write kind ${kind}` })
  return { kind, startTs: timestamp(new DataView(b.buffer, b.byteOffset, 9).getBigUint64(1)) }
}

/** The kvrpc `Op` a write kind stands for. */
export const writeKindToOp = (k: WriteKind): Op =>
  k === WriteKind.Put ? "Put" : k === WriteKind.Delete ? "Del" : "Rollback"

/** The write kind a prewrite mutation records in its lock; `undefined` for `Lock`, which TinyKV does not support. */
export const writeKindFromOp = (op: Op): WriteKind | undefined =>
  op === "Put" ? WriteKind.Put : op === "Del" ? WriteKind.Delete : op === "Rollback" ? WriteKind.Rollback : undefined
