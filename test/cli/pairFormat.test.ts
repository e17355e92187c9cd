/** The data commands' output formats: escaping is exact and reversible, JSON is lossless. */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { escapeText, pairJson, pairsTable, simpleLine, unescapeText, utf8OrNull } from "../../src/cli/pairFormat.js"
import { utf8 } from "../../src/protocol/bytes.js"

describe("pair formats", () => {
  it("escapeText keeps a pair on one line and unescapeText undoes it, for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const escaped = escapeText(text)
        assert.notMatch(escaped, /[\t\n\r]/)
        assert.strictEqual(unescapeText(escaped), text)
      })
    )
  })

  it("simple lines and tables escape tabs, newlines and backslashes", () => {
    const pair = { key: utf8("a\tb"), value: utf8("x\ny\\z") }
    assert.strictEqual(simpleLine(pair, false), "a\\tb\tx\\ny\\\\z")
    assert.strictEqual(simpleLine({ key: pair.key }, false), "a\\tb")
    assert.strictEqual(simpleLine(pair, true), "610962\t780a795c7a")
    assert.strictEqual(pairsTable([pair], false, false), "KEY   VALUE\na\\tb  x\\ny\\\\z")
  })

  it("JSON: text when the bytes are UTF-8, null otherwise; base64 always", () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (key, value) => {
        const j = pairJson({ key, value })
        assert.deepStrictEqual(new Uint8Array(Buffer.from(j.keyBase64, "base64")), key)
        assert.deepStrictEqual(new Uint8Array(Buffer.from(j.valueBase64!, "base64")), value)
        assert.strictEqual(j.key, utf8OrNull(key))
      })
    )
    assert.deepStrictEqual(pairJson({ key: utf8("k") }), { key: "k", keyBase64: "aw==" })
    assert.strictEqual(pairJson({ key: utf8("k"), value: new Uint8Array([0xff]) }).value, null)
  })
})
