/**
 * Stored records own their bytes: an encoded record is not a view into msgpackr's working buffer, which a
 * Raft entry kept in a log would otherwise hold whole (1.2 MB once a large record had grown it), and a later
 * encoding does not write over an earlier one.
 */
import { assert, describe, it } from "@effect/vitest"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { RaftCmdRequest } from "../../src/protocol/raftCmd.js"
import { RaftCmdCodec } from "../../src/raftstore/codec.js"

const put = (key: string, valueBytes: number): RaftCmdRequest => ({
  header: {
    regionId: 1 as RegionId,
    peer: { id: 1 as PeerId, storeId: 1 as StoreId },
    regionEpoch: { confVer: 1, version: 1 },
    term: 0
  },
  requests: [
    { _tag: "Put", cf: "default", key: new TextEncoder().encode(key), value: new Uint8Array(valueBytes).fill(7) }
  ]
})

describe("stored records", () => {
  it("own their bytes, after a large record and across encodings", () => {
    // a large record grows the working buffer past a megabyte
    const large = RaftCmdCodec.encode(put("large", 1 << 20))
    assert.strictEqual(large.buffer.byteLength, large.byteLength)
    const first = RaftCmdCodec.encode(put("first", 128))
    const second = RaftCmdCodec.encode(put("second", 128))
    for (const encoded of [first, second]) {
      assert.strictEqual(encoded.byteOffset, 0)
      assert.strictEqual(encoded.buffer.byteLength, encoded.byteLength)
    }
    // the second encoding did not write over the first
    const decoded = RaftCmdCodec.decode(first)
    const request = decoded.requests[0]
    assert.strictEqual(request?._tag, "Put")
    if (request?._tag === "Put") assert.strictEqual(new TextDecoder().decode(request.key), "first")
    const large2 = RaftCmdCodec.decode(large).requests[0]
    assert.strictEqual(large2?._tag === "Put" ? large2.value.length : 0, 1 << 20)
  })
})
