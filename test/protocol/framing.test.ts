/** The length-prefixed framing: any split of a stream into chunks yields the same messages; oversize is refused early. */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { FrameReader, frame, makeFramedMsgPack } from "../../src/rpc/framedMsgPack.js"

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
const cut = (bytes: Uint8Array, offsets: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b)
  const parts: Array<Uint8Array> = []
  let last = 0
  for (const p of [...points, bytes.length]) {
    parts.push(bytes.subarray(last, p))
    last = p
  }
  return parts
}

const message = fc.record({
  _tag: fc.constantFrom("Request", "Exit", "Ack"),
  id: fc.string(),
  payload: fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.string(), fc.integer(), fc.constant(null))
})

describe("framed msgpack", () => {
  it("decodes the same messages however the stream is cut", () =>
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), (messages, offsets) => {
        const serialization = makeFramedMsgPack()
        const sender = serialization.unsafeMake()
        const receiver = serialization.unsafeMake()
        const stream = concat(messages.map((m) => sender.encode(m) as Uint8Array))
        const decoded = cut(stream, offsets).flatMap((chunk) => receiver.decode(chunk))
        assert.deepStrictEqual(decoded, messages)
      }),
      { numRuns: 300 }
    ))

  it("a frame split into single bytes is decoded once, when its last byte arrives", () => {
    const reader = new FrameReader(1024)
    const bytes = frame(new Uint8Array([1, 2, 3, 4, 5]))
    const out: Array<Uint8Array> = []
    for (let i = 0; i < bytes.length; i++) {
      const got = reader.push(bytes.subarray(i, i + 1))
      assert.strictEqual(got.length, i === bytes.length - 1 ? 1 : 0, `after byte ${i}`)
      out.push(...got)
    }
    assert.deepStrictEqual([...out[0]!], [1, 2, 3, 4, 5])
  })

  it("refuses an oversized frame from its header, before any of its body", () => {
    const reader = new FrameReader(16 * 1024 * 1024)
    // first byte 0x04: at least 64 MiB announced, refused before the rest of the header
    assert.throws(() => reader.push(new Uint8Array([0x04])), /maximum size/)
    const exact = new FrameReader(100)
    assert.throws(() => exact.push(new Uint8Array([0, 0, 0, 101])), /maximum size/)
    const atLimit = new FrameReader(100)
    assert.strictEqual(atLimit.push(new Uint8Array([0, 0, 0, 100])).length, 0, "a frame at the limit is awaited")
  })

  it("the refusal is the error @effect/rpc closes a connection on", () => {
    const parser = makeFramedMsgPack({ maxFrameSize: 10 }).unsafeMake()
    try {
      parser.decode(new Uint8Array([0, 0, 0, 11]))
      assert.fail("accepted an oversized frame")
    } catch (e) {
      assert.strictEqual((e as { _tag?: string })._tag, "RpcSerializationError")
    }
  })

  it("a payload that is not msgpack, or not an RPC message, fails alone and the stream stays in step", () => {
    const reasons: Array<string> = []
    const serialization = makeFramedMsgPack({ onBadFrame: (r) => reasons.push(r) })
    const sender = serialization.unsafeMake()
    const receiver = serialization.unsafeMake()
    assert.throws(() => receiver.decode(frame(new Uint8Array([0x92, 0x01]))), /undecodable frame/)
    assert.throws(() => receiver.decode(sender.encode(42) as Uint8Array), /not an RPC message/)
    assert.strictEqual(reasons.length, 2)
    assert.deepStrictEqual(receiver.decode(sender.encode({ _tag: "Ping" }) as Uint8Array), [{ _tag: "Ping" }])
  })
})
