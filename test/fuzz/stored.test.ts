/**
 * Fuzzing the stored-record decoders (raft state, region state, snapshot data, raft commands, scheduler meta):
 * any bytes give the record or `CorruptRecord`, never another exception. Raft commands and snapshot data come
 * from other stores, so this is also network input.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { Packr } from "msgpackr"
import { CorruptRecord, decodeU64 } from "../../src/protocol/storedCodec.js"
import * as Codecs from "../../src/raftstore/codec.js"
import { clusterCodec, regionCodec, storeCodec } from "../../src/scheduler/persist.js"
import { fuzzParams, fuzzRuns, fuzzTimeout } from "./runs.js"

const plain = new Packr({ useRecords: false })

const codecs = [
  Codecs.RaftLocalStateCodec,
  Codecs.RaftApplyStateCodec,
  Codecs.RegionLocalStateCodec,
  Codecs.StoreIdentCodec,
  Codecs.SnapshotDataCodec,
  Codecs.RaftCmdCodec,
  regionCodec,
  storeCodec,
  clusterCodec
]

describe("fuzz: stored records", () => {
  it(
    `any bytes decode to the record or CorruptRecord (${fuzzRuns} inputs)`,
    () => {
      let corrupt = 0
      fc.assert(
        fc.property(
          fc.nat(codecs.length - 1),
          fc.oneof(
            fc.uint8Array({ maxLength: 80 }),
            fc.anything().map((v) => plain.pack(v) as Uint8Array),
            fc.record({ region: fc.anything(), state: fc.anything() }).map((v) => plain.pack(v) as Uint8Array)
          ),
          (which, bytes) => {
            try {
              codecs[which]!.decode(bytes)
            } catch (e) {
              assert.instanceOf(e, CorruptRecord, String(e))
              corrupt++
            }
          }
        ),
        fuzzParams
      )
      assert.isAbove(corrupt, 0)
    },
    fuzzTimeout()
  )

  it("a u64 of the wrong length is CorruptRecord", () => {
    assert.throws(() => decodeU64(new Uint8Array(3)), /corrupt u64 record/)
    assert.strictEqual(decodeU64(new Uint8Array([0, 0, 0, 0, 0, 0, 1, 0])), 256n)
  })
})
