/** Memcomparable codec, MVCC key encoding and record layouts (TinyKV `TestEncodeKey`/`TestDecodeKey`). */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { compareBytes } from "../../src/protocol/bytes.js"
import { timestamp } from "../../src/protocol/ids.js"
import { decodeBytes, encodeBytes } from "../../src/transaction/codec.js"
import { MvccCorruption } from "../../src/transaction/corruption.js"
import { lockToBytes, parseLock } from "../../src/transaction/lock.js"
import { decodeTimestamp, decodeUserKey, encodeKey, TS_MAX, versionsEnd } from "../../src/transaction/mvccKey.js"
import { parseWrite, WriteKind, writeToBytes } from "../../src/transaction/write.js"
import { bytes } from "./harness.js"

const not = (n: bigint) => ~n & ((1n << 64n) - 1n)
const ff8 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

describe("codec", () => {
  it("EncodeBytes examples", () => {
    assert.deepStrictEqual(encodeBytes(bytes([])), bytes([0, 0, 0, 0, 0, 0, 0, 0, 247]))
    assert.deepStrictEqual(encodeBytes(bytes([1, 2, 3])), bytes([1, 2, 3, 0, 0, 0, 0, 0, 250]))
    assert.deepStrictEqual(encodeBytes(bytes([1, 2, 3, 0])), bytes([1, 2, 3, 0, 0, 0, 0, 0, 251]))
    assert.deepStrictEqual(
      encodeBytes(bytes([1, 2, 3, 4, 5, 6, 7, 8])),
      bytes([1, 2, 3, 4, 5, 6, 7, 8, 255, 0, 0, 0, 0, 0, 0, 0, 0, 247])
    )
  })

  it("DecodeBytes rejects truncated input, bad markers and bad padding", () => {
    assert.throws(() => decodeBytes(bytes([1, 2, 3])), MvccCorruption)
    assert.throws(() => decodeBytes(bytes([1, 2, 3, 0, 0, 0, 0, 0, 200])), MvccCorruption)
    assert.throws(() => decodeBytes(bytes([1, 2, 3, 9, 0, 0, 0, 0, 250])), MvccCorruption)
    const { data, rest } = decodeBytes(bytes([1, 2, 3, 0, 0, 0, 0, 0, 250, 7, 7]))
    assert.deepStrictEqual(data, bytes([1, 2, 3]))
    assert.deepStrictEqual(rest, bytes([7, 7]))
  })

  it.prop("DecodeBytes inverts EncodeBytes", [fc.uint8Array({ maxLength: 40 })], ([data]) => {
    const { data: back, rest } = decodeBytes(encodeBytes(data))
    assert.deepStrictEqual(back, data)
    assert.strictEqual(rest.length, 0)
  })

  it.prop(
    "EncodeBytes preserves order",
    [fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 })],
    ([a, b]) => {
      assert.strictEqual(Math.sign(compareBytes(encodeBytes(a), encodeBytes(b))), Math.sign(compareBytes(a, b)))
    }
  )
})

describe("mvcc keys", () => {
  it("TestEncodeKey", () => {
    assert.deepStrictEqual(encodeKey(bytes([]), 0n), bytes([0, 0, 0, 0, 0, 0, 0, 0, 247, ...ff8]))
    assert.deepStrictEqual(encodeKey(bytes([42]), 0n), bytes([42, 0, 0, 0, 0, 0, 0, 0, 248, ...ff8]))
    assert.deepStrictEqual(encodeKey(bytes([42, 0, 5]), 0n), bytes([42, 0, 5, 0, 0, 0, 0, 0, 250, ...ff8]))
    assert.deepStrictEqual(
      encodeKey(bytes([42]), not(43543258743295n)),
      bytes([42, 0, 0, 0, 0, 0, 0, 0, 248, 0, 0, 39, 154, 52, 120, 65, 255])
    )
    assert.deepStrictEqual(
      encodeKey(bytes([42, 0, 5]), not(98753868n)),
      bytes([42, 0, 5, 0, 0, 0, 0, 0, 250, 0, 0, 0, 0, 5, 226, 221, 76])
    )
    // ascending by key, descending by ts
    assert.isTrue(compareBytes(encodeKey(bytes([42]), 238n), encodeKey(bytes([200]), 0n)) < 0)
    assert.isTrue(compareBytes(encodeKey(bytes([42]), 238n), encodeKey(bytes([42, 0]), 0n)) < 0)
  })

  it("TestDecodeKey", () => {
    assert.deepStrictEqual(decodeUserKey(encodeKey(bytes([]), 0n)), bytes([]))
    assert.deepStrictEqual(decodeUserKey(encodeKey(bytes([42]), 0n)), bytes([42]))
    assert.deepStrictEqual(decodeUserKey(encodeKey(bytes([42, 0, 5]), 0n)), bytes([42, 0, 5]))
    assert.deepStrictEqual(decodeUserKey(encodeKey(bytes([42]), 2342342355436234n)), bytes([42]))
    assert.deepStrictEqual(decodeUserKey(encodeKey(bytes([42, 0, 5]), 234234n)), bytes([42, 0, 5]))
    assert.strictEqual(decodeTimestamp(encodeKey(bytes([42, 0, 5]), 234234n)), 234234n)
    assert.strictEqual(decodeTimestamp(encodeKey(bytes([1]), TS_MAX)), TS_MAX)
  })

  it.prop(
    "EncodeKey order = (user key ascending, ts descending)",
    [fc.uint8Array({ maxLength: 20 }), fc.bigUint(TS_MAX), fc.uint8Array({ maxLength: 20 }), fc.bigUint(TS_MAX)],
    ([k1, t1, k2, t2]) => {
      const byKey = compareBytes(k1, k2)
      const expected = byKey !== 0 ? Math.sign(byKey) : t1 === t2 ? 0 : t1 > t2 ? -1 : 1
      assert.strictEqual(Math.sign(compareBytes(encodeKey(k1, t1), encodeKey(k2, t2))), expected)
      assert.deepStrictEqual(decodeUserKey(encodeKey(k1, t1)), k1)
      assert.strictEqual(decodeTimestamp(encodeKey(k1, t1)), t1)
    }
  )

  it.prop(
    "every version of a key lies in [encodeKey(k, TS_MAX), versionsEnd(k)), no other key does",
    [fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 12 }), fc.bigUint(TS_MAX)],
    ([k, other, ts]) => {
      const inside = (mk: Uint8Array) =>
        compareBytes(mk, encodeKey(k, TS_MAX)) >= 0 && compareBytes(mk, versionsEnd(k)) < 0
      assert.isTrue(inside(encodeKey(k, ts)))
      if (compareBytes(k, other) !== 0) assert.isFalse(inside(encodeKey(other, ts)))
    }
  )
})

describe("records", () => {
  it("Lock layout: primary ‖ kind ‖ BE64(ts) ‖ BE64(ttl)", () => {
    const lock = { primary: bytes([16]), ts: timestamp(100), ttl: 100000, kind: WriteKind.Rollback }
    const b = lockToBytes(lock)
    assert.deepStrictEqual(b, bytes([16, 3, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 1, 134, 160]))
    assert.deepStrictEqual(parseLock(b), lock)
    // an empty primary is 17 bytes; shorter is corrupt
    assert.deepStrictEqual(parseLock(bytes([1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0])).primary, bytes([]))
    assert.throws(() => parseLock(bytes([1, 2, 3])), MvccCorruption)
  })

  it("Write layout: kind ‖ BE64(startTs)", () => {
    const w = { startTs: timestamp(0x0102030405n), kind: WriteKind.Delete }
    assert.deepStrictEqual(writeToBytes(w), bytes([2, 0, 0, 0, 1, 2, 3, 4, 5]))
    assert.deepStrictEqual(parseWrite(writeToBytes(w)), w)
    assert.throws(() => parseWrite(bytes([1, 0])), MvccCorruption)
    assert.throws(() => parseWrite(bytes([9, 0, 0, 0, 0, 0, 0, 0, 0])), MvccCorruption)
  })
})
