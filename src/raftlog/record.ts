/**
 * The payload of one raft log record: the raft-space writes of one engine batch, in order, or a checkpoint (every
 * key of the space as it stood, written out whole so the segments before it can be released).
 *
 * Every op is a blind write (a put, a delete, a range delete): applying a record's ops again to a state that
 * already has them changes nothing, so recovery may replay a record it had in effect already (a released segment
 * read again after a crash, see `segmentedLog.ts`).
 *
 * Layout: `kind u8`, then ops: `Put: 1 | keyLen u16 | key | valueLen u32 | value`, `Delete: 2 | keyLen u16 | key`,
 * `DeleteRange: 3 | startLen u16 | start | endLen u16 | end` (an empty end: to the end of the space). Lengths are
 * little-endian.
 */

export type LogOp =
  | { readonly _tag: "Put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly _tag: "Delete"; readonly key: Uint8Array }
  | { readonly _tag: "DeleteRange"; readonly start: Uint8Array; readonly end: Uint8Array }

export interface LogRecordBody {
  /** A checkpoint: the space is these ops (its puts) alone; everything recorded before it is void. */
  readonly checkpoint: boolean
  readonly ops: ReadonlyArray<LogOp>
}

const KIND_BATCH = 0
const KIND_CHECKPOINT = 1
const PUT = 1
const DELETE = 2
const DELETE_RANGE = 3

const opBytes = (op: LogOp): number =>
  op._tag === "Put"
    ? 1 + 2 + op.key.length + 4 + op.value.length
    : op._tag === "Delete"
      ? 1 + 2 + op.key.length
      : 1 + 2 + op.start.length + 2 + op.end.length

export const encodeRecord = (body: LogRecordBody): Uint8Array => {
  let size = 1
  for (const op of body.ops) size += opBytes(op)
  const out = Buffer.allocUnsafe(size)
  out[0] = body.checkpoint ? KIND_CHECKPOINT : KIND_BATCH
  let at = 1
  const bytes = (b: Uint8Array, lengthBytes: 2 | 4) => {
    if (lengthBytes === 2) at = out.writeUInt16LE(b.length, at)
    else at = out.writeUInt32LE(b.length, at)
    out.set(b, at)
    at += b.length
  }
  for (const op of body.ops) {
    if (op._tag === "Put") {
      out[at++] = PUT
      bytes(op.key, 2)
      bytes(op.value, 4)
    } else if (op._tag === "Delete") {
      out[at++] = DELETE
      bytes(op.key, 2)
    } else {
      out[at++] = DELETE_RANGE
      bytes(op.start, 2)
      bytes(op.end, 2)
    }
  }
  return out
}

/** Decodes a payload `encodeRecord` made; throws on anything else (a record's checksum matched, so it never should). */
export const decodeRecord = (payload: Uint8Array): LogRecordBody => {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  const kind = buf[0]
  if (kind !== KIND_BATCH && kind !== KIND_CHECKPOINT) throw new Error(`raft log record of unknown kind ${kind}`)
  let at = 1
  const bytes = (lengthBytes: 2 | 4): Uint8Array => {
    const n = lengthBytes === 2 ? buf.readUInt16LE(at) : buf.readUInt32LE(at)
    at += lengthBytes
    if (at + n > buf.length) throw new Error("raft log record ends inside an op")
    // a copy: the caller keeps the bytes, and the payload's buffer is the segment's read buffer
    const out = new Uint8Array(buf.subarray(at, at + n))
    at += n
    return out
  }
  const ops: Array<LogOp> = []
  while (at < buf.length) {
    const tag = buf[at++]
    if (tag === PUT) {
      const key = bytes(2)
      ops.push({ _tag: "Put", key, value: bytes(4) })
    } else if (tag === DELETE) ops.push({ _tag: "Delete", key: bytes(2) })
    else if (tag === DELETE_RANGE) {
      const start = bytes(2)
      ops.push({ _tag: "DeleteRange", start, end: bytes(2) })
    } else throw new Error(`raft log op of unknown tag ${tag}`)
  }
  return { checkpoint: kind === KIND_CHECKPOINT, ops }
}
