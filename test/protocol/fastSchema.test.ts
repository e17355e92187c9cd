/** The fast path derived from a Schema decides exactly as the Schema does (`src/protocol/fastSchema.ts`). */
import { assert, describe, it } from "@effect/vitest"
import { Either, ParseResult, Schema } from "effect"
import * as Kv from "../../src/protocol/kvrpc.js"
import { compileCheck, withFastPath } from "../../src/protocol/fastSchema.js"
import { RaftMessage } from "../../src/protocol/raftServer.js"

const Raft = Schema.Struct({ messages: Schema.Array(RaftMessage) })
const FastRaft = withFastPath(Raft)

const peer = (id: number, storeId: number) => ({ id, storeId })
const message = (over: Record<string, unknown> = {}, inner: Record<string, unknown> = {}) => ({
  regionId: 2,
  fromPeer: peer(3, 1),
  toPeer: peer(4, 2),
  regionEpoch: { confVer: 1, version: 1 },
  isTombstone: false,
  message: {
    msgType: "MsgAppend",
    to: 4,
    from: 3,
    term: 6,
    logTerm: 6,
    index: 100,
    commit: 99,
    reject: false,
    entries: [{ entryType: "EntryNormal", term: 6, index: 101, data: new Uint8Array([1, 2, 3]) }],
    ...inner
  },
  ...over
})

const outcome = <A, I>(schema: Schema.Schema<A, I, never>, u: unknown) =>
  Either.mapLeft(Schema.decodeUnknownEither(schema)(u), (e) => ParseResult.TreeFormatter.formatErrorSync(e))

describe("fastSchema", () => {
  it("takes a valid message as its own decoding and encoding", () => {
    const input = { messages: [message(), message({ startKey: new Uint8Array([0]) }, { transfer: true })] }
    assert.isTrue(compileCheck(Raft.ast)!(input))
    const decoded = Schema.decodeUnknownSync(FastRaft)(input)
    assert.strictEqual(decoded as unknown, input)
    assert.strictEqual(Schema.encodeSync(FastRaft)(decoded) as unknown, input)
    assert.deepStrictEqual(decoded, Schema.decodeUnknownSync(Raft)(input))
  })

  it("refuses what the Schema refuses, with the Schema's own error", () => {
    const bad: Array<unknown> = [
      { messages: [message({ regionId: -1 })] },
      { messages: [message({ regionId: 1.5 })] },
      { messages: [message({ regionId: Number.MAX_SAFE_INTEGER + 2 })] },
      { messages: [message({ toPeer: { id: 4 } })] },
      { messages: [message({}, { msgType: "MsgNope" })] },
      { messages: [message({}, { entries: [{ entryType: "EntryNormal", term: 6, index: 101, data: [1, 2] }] })] },
      { messages: [message({}, { transfer: false })] },
      { messages: [message({ isTombstone: "no" })] },
      { messages: {} },
      { messages: [null] },
      null,
      "Raft"
    ]
    for (const u of bad) {
      assert.isFalse(compileCheck(Raft.ast)!(u), JSON.stringify(u))
      const plain = outcome(Raft, u)
      assert.isTrue(Either.isLeft(plain))
      assert.deepStrictEqual(outcome(FastRaft, u), plain)
    }
  })

  it("drops an unknown key as the Schema does (the full path handles it)", () => {
    const input = { messages: [message({ extra: 1 })] }
    assert.isFalse(compileCheck(Raft.ast)!(input))
    const decoded = Schema.decodeUnknownSync(FastRaft)(input)
    assert.isFalse("extra" in decoded.messages[0]!)
    assert.deepStrictEqual(decoded, Schema.decodeUnknownSync(Raft)(input))
  })

  it("has no fast path through a transformation", () => {
    assert.isUndefined(compileCheck(Schema.NumberFromString.ast))
    const s = Schema.Struct({ n: Schema.NumberFromString })
    assert.strictEqual(withFastPath(s), s)
  })

  it("covers the raw get and put requests", () => {
    const put = {
      context: { regionId: 2, regionEpoch: { confVer: 1, version: 1 }, peer: peer(3, 1) },
      key: new Uint8Array([1]),
      value: new Uint8Array(0),
      cf: "default"
    }
    assert.isTrue(compileCheck(Kv.RawPutRequest.ast)!(put))
    assert.isTrue(compileCheck(Kv.RawPutRequest.ast)!({ ...put, context: undefined }))
    assert.isFalse(compileCheck(Kv.RawPutRequest.ast)!({ ...put, key: "k" }))
    assert.isDefined(compileCheck(Kv.RawGetRequest.ast))
    assert.isDefined(compileCheck(Kv.RawGetResponse.ast))
  })
})
