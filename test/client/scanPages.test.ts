/** Paging through a key range: where the next page starts, and when the scan stops. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { rangeEnd, successor } from "../../src/client/bytes.js"
import { nextAfterPage, scanPages } from "../../src/client/scanPages.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { MAX_SCAN_LIMIT, SCAN_BYTE_BUDGET } from "../../src/protocol/limits.js"

const pair = (key: string, valueBytes = 1) => ({ key: utf8(key), value: new Uint8Array(valueBytes) })
const NO_END = new Uint8Array(0)

describe("nextAfterPage", () => {
  it("a full page goes on just after its last key", () => {
    assert.deepStrictEqual(nextAfterPage([pair("a"), pair("b")], 2, NO_END), successor(utf8("b")))
  })

  it("a short page cut at the byte budget goes on just after its last key", () => {
    assert.deepStrictEqual(nextAfterPage([pair("a", SCAN_BYTE_BUDGET)], 10, utf8("m")), successor(utf8("a")))
  })

  it("a short or empty page ends the region: on at its end key, or done at the end of the key space", () => {
    assert.deepStrictEqual(nextAfterPage([pair("a")], 10, utf8("m")), utf8("m"))
    assert.deepStrictEqual(nextAfterPage([], 10, utf8("m")), utf8("m"))
    assert.strictEqual(nextAfterPage([pair("a")], 10, NO_END), undefined)
    assert.strictEqual(nextAfterPage([], 10, NO_END), undefined)
  })
})

describe("scanPages", () => {
  /** A store of `keys` answering pages of at most `pageSize`, recording what was asked. */
  const pager = (keys: ReadonlyArray<string>, pageSize: number) => {
    const asked: Array<{ from: string; want: number }> = []
    const page = (from: Uint8Array, want: number) =>
      Effect.sync(() => {
        asked.push({ from: fromUtf8(from), want })
        const items = keys.filter((k) => k >= fromUtf8(from)).slice(0, Math.min(want, pageSize))
        return {
          items,
          next: nextAfterPage(
            items.map((k) => pair(k)),
            Math.min(want, pageSize),
            NO_END
          )
        }
      })
    return { asked, page }
  }

  it.effect("asks page after page until the limit, never more than remains or than a page may hold", () =>
    Effect.gen(function* () {
      const keys = Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, "0")}`)
      const { asked, page } = pager(keys, 20)
      const got = yield* scanPages({ start: utf8("k"), end: undefined, limit: 45 }, page)
      assert.deepStrictEqual(got, keys.slice(0, 45))
      assert.deepStrictEqual(
        asked.map((a) => a.want),
        [45, 25, 5]
      )
      const big = yield* scanPages(
        { start: utf8(""), end: undefined, limit: MAX_SCAN_LIMIT + 7 },
        pager(keys, 100).page
      )
      assert.strictEqual(big.length, 50)
    })
  )

  it.effect("stops at the end of the range, and at once when the start is at or past the end", () =>
    Effect.gen(function* () {
      const { asked, page } = pager(["a", "b", "c"], 1)
      // the page from "a" is full, so more may follow; but the next would start at "a\0", the end
      const got = yield* scanPages({ start: utf8("a"), end: successor(utf8("a")), limit: 10 }, page)
      assert.deepStrictEqual(got, ["a"])
      assert.strictEqual(asked.length, 1)
      assert.deepStrictEqual(yield* scanPages({ start: utf8("c"), end: utf8("b"), limit: 10 }, page), [])
    })
  )

  it("an empty end, like an absent one, means the end of the key space", () => {
    assert.strictEqual(rangeEnd(""), undefined)
    assert.strictEqual(rangeEnd(undefined), undefined)
    assert.deepStrictEqual(rangeEnd("z"), utf8("z"))
  })
})
