/**
 * The byte encoding of a `ConfChange` inside an `EntryConfChange` entry.
 *
 * TinyKV stores `cc.Marshal()` (protobuf) in the entry; our core cannot import the protocol's runtime codecs
 * (it imports protocol *types* only), so it owns this small, stable format instead:
 *
 *     byte 0      format version (1)
 *     byte 1      change type: 0 = AddNode, 1 = RemoveNode
 *     varint      nodeId (unsigned LEB128, up to 2^53 - 1)
 *     rest        context bytes, verbatim (the raftstore puts its encoded admin command here)
 *
 * `RawNode.proposeConfChange` encodes; the application decodes committed conf-change entries with
 * `decodeConfChange` and hands the result to `RawNode.applyConfChange`.
 */
import type { ConfChange } from "../protocol/eraftpb.js"
import { invariant } from "./errors.js"

const VERSION = 1

export const encodeConfChange = (cc: ConfChange): Uint8Array => {
  invariant(Number.isSafeInteger(cc.nodeId) && cc.nodeId >= 0, () => `bad conf change node id ${cc.nodeId}`)
  const varint: number[] = []
  let v = cc.nodeId
  do {
    const low = v % 128
    v = Math.floor(v / 128)
    varint.push(v > 0 ? low + 128 : low)
  } while (v > 0)
  const out = new Uint8Array(2 + varint.length + cc.context.length)
  out[0] = VERSION
  out[1] = cc.changeType === "AddNode" ? 0 : 1
  out.set(varint, 2)
  out.set(cc.context, 2 + varint.length)
  return out
}

/**
 * Decodes what `encodeConfChange` produced. Malformed bytes in a committed conf-change entry mean a corrupt log,
 * a defect: `RaftInvariantError`.
 */
export const decodeConfChange = (data: Uint8Array): ConfChange => {
  invariant(data.length >= 3 && data[0] === VERSION, () => "malformed conf change entry: bad header")
  const t = data[1]
  invariant(t === 0 || t === 1, () => `malformed conf change entry: change type ${t}`)
  let nodeId = 0
  let scale = 1
  let i = 2
  for (;;) {
    const b = data[i++]
    invariant(b !== undefined && scale <= 2 ** 49, () => "malformed conf change entry: truncated node id")
    nodeId += (b & 127) * scale
    scale *= 128
    if (b < 128) break
  }
  return { changeType: t === 0 ? "AddNode" : "RemoveNode", nodeId, context: data.slice(i) }
}
