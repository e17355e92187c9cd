/**
 * How the raftstore stores its values. Log entries use a fixed binary layout (they are the hot path:
 * written on every proposal, read on every append to a follower); the small state records use msgpack
 * through their protocol Schemas, validated when read back.
 *
 * Entry layout: type (1 byte: 0 normal, 1 conf change) ‖ term (8 bytes BE) ‖ index (8 bytes BE) ‖ data.
 */
import { storedCodec } from "../protocol/storedCodec.js"
import type { Entry } from "../protocol/eraftpb.js"
import { RaftCmdRequest } from "../protocol/raftCmd.js"
import {
  RaftApplyState,
  RaftLocalState,
  RaftSnapshotData,
  RegionLocalState,
  StoreIdent
} from "../protocol/raftServer.js"

const HEADER = 17

export const encodeEntry = (e: Entry): Uint8Array => {
  const out = new Uint8Array(HEADER + e.data.length)
  const v = new DataView(out.buffer)
  out[0] = e.entryType === "EntryNormal" ? 0 : 1
  v.setUint32(1, Math.floor(e.term / 0x1_0000_0000))
  v.setUint32(5, e.term >>> 0)
  v.setUint32(9, Math.floor(e.index / 0x1_0000_0000))
  v.setUint32(13, e.index >>> 0)
  out.set(e.data, HEADER)
  return out
}

export const decodeEntry = (b: Uint8Array): Entry => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    entryType: b[0] === 0 ? "EntryNormal" : "EntryConfChange",
    term: v.getUint32(1) * 0x1_0000_0000 + v.getUint32(5),
    index: v.getUint32(9) * 0x1_0000_0000 + v.getUint32(13),
    data: b.subarray(HEADER)
  }
}

export const RaftLocalStateCodec = storedCodec(RaftLocalState)
export const RaftApplyStateCodec = storedCodec(RaftApplyState)
export const RegionLocalStateCodec = storedCodec(RegionLocalState)
export const StoreIdentCodec = storedCodec(StoreIdent)
export const SnapshotDataCodec = storedCodec(RaftSnapshotData)
export const RaftCmdCodec = storedCodec(RaftCmdRequest)
