/** The region tree: ordered, non-overlapping ranges; inserts evict what they overlap. */
import { assert, describe, it } from "@effect/vitest"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import { type RegionInfo, regionInfo } from "../../src/scheduler/regionInfo.js"
import { RegionTree } from "../../src/scheduler/regionTree.js"
import { key, region, rid } from "./fixtures.js"

const info = (id: number, start: string, end: string, version = 1) => regionInfo(region(id, start, end, { version }))
const ids = (rs: ReadonlyArray<RegionInfo>) => rs.map((r) => r.region.id as number)
const idAt = (t: RegionTree, k: string) => t.search(key(k))?.region.id

const tree = (...infos: Array<RegionInfo>) => {
  const t = new RegionTree()
  for (const i of infos) t.put(i)
  return t
}

describe("RegionTree", () => {
  it("keeps regions in start-key order and finds the one containing a key", () => {
    const t = tree(info(3, "m", "t"), info(1, "", "c"), info(2, "c", "m"), info(4, "x", ""))
    assert.deepStrictEqual(ids(t.all()), [1, 2, 3, 4])
    assert.strictEqual(t.size, 4)
    assert.strictEqual(idAt(t, ""), 1)
    assert.strictEqual(idAt(t, "b"), 1)
    assert.strictEqual(idAt(t, "c"), 2, "a start key belongs to its region")
    assert.strictEqual(idAt(t, "s\xff"), 3)
    assert.isUndefined(idAt(t, "t"), "end keys are exclusive; [t, x) is a gap")
    assert.isUndefined(idAt(t, "w"))
    assert.strictEqual(idAt(t, "x"), 4)
    assert.strictEqual(idAt(t, "zzzz"), 4, "an empty end key is unbounded")
    assert.strictEqual(t.get(rid(3))?.region.id, 3)
    assert.isUndefined(t.get(rid(9)))
  })

  it("an insert removes every region it overlaps and returns them", () => {
    const t = tree(info(1, "", "c"), info(2, "c", "m"), info(3, "m", "t"), info(4, "t", ""))
    const removed = t.put(info(5, "b", "n", 2))
    assert.deepStrictEqual(ids(removed), [1, 2, 3])
    assert.deepStrictEqual(ids(t.all()), [5, 4])
    assert.isUndefined(t.get(rid(1)))
    assert.isUndefined(idAt(t, "a"), "the overlapped region's uncovered part is a gap now")
    assert.strictEqual(idAt(t, "m"), 5)
  })

  it("touching ranges do not overlap", () => {
    const t = tree(info(1, "a", "c"), info(3, "e", "g"))
    assert.deepStrictEqual(ids(t.put(info(2, "c", "e"))), [])
    assert.deepStrictEqual(ids(t.all()), [1, 2, 3])
  })

  it("re-inserting a region replaces its old entry, in place or at its new range", () => {
    const t = tree(info(1, "", "m"), info(2, "m", ""))
    const same = t.put(info(1, "", "m", 2))
    assert.deepStrictEqual(ids(same), [1])
    assert.strictEqual(t.get(rid(1))?.region.regionEpoch.version, 2)
    // region 1 shrinks (split): its old entry goes, region 2 is untouched
    const moved = t.put(info(1, "", "f", 3))
    assert.deepStrictEqual(ids(moved), [1])
    assert.deepStrictEqual(ids(t.all()), [1, 2])
    assert.isUndefined(idAt(t, "g"))
    // region 2 grows over the gap (merge of a missing neighbour)
    assert.deepStrictEqual(ids(t.put(info(2, "f", "", 3))), [2])
    assert.strictEqual(idAt(t, "g"), 2)
  })

  it("scans the regions intersecting a range, with a limit", () => {
    const t = tree(info(1, "", "c"), info(2, "c", "m"), info(3, "m", "t"), info(4, "x", ""))
    assert.deepStrictEqual(ids(t.scan(key(""), key(""))), [1, 2, 3, 4])
    assert.deepStrictEqual(ids(t.scan(key("d"), key("n"))), [2, 3], "starts with the region containing the start key")
    assert.deepStrictEqual(ids(t.scan(key("c"), key("m"))), [2], "the end key is exclusive")
    assert.deepStrictEqual(ids(t.scan(key("u"), key("w"))), [], "a gap")
    assert.deepStrictEqual(ids(t.scan(key("u"), key(""))), [4])
    assert.deepStrictEqual(ids(t.scan(key("a"), key(""), 2)), [1, 2])
    assert.deepStrictEqual(ids(t.overlaps(info(9, "b", "d"))), [1, 2])
    assert.deepStrictEqual(ids(t.overlaps(info(2, "b", "d"))), [1], "a region does not overlap itself")
  })

  it("finds the adjacent previous region", () => {
    const t = tree(info(1, "", "c"), info(2, "c", "m"), info(3, "p", ""))
    assert.strictEqual(t.searchPrev(key("d"))?.region.id, 1)
    assert.isUndefined(t.searchPrev(key("a")), "the first region has none")
    assert.isUndefined(t.searchPrev(key("q")), "not adjacent: [m, p) is a gap")
    assert.isUndefined(t.searchPrev(key("n")), "no region contains the key")
  })

  it("removes by id", () => {
    const t = tree(info(1, "", "c"), info(2, "c", ""))
    assert.strictEqual(t.remove(rid(1))?.region.id, 1)
    assert.isUndefined(t.remove(rid(1)))
    assert.isUndefined(idAt(t, "a"))
    assert.deepStrictEqual(ids(t.all()), [2])
  })

  it("stays ordered and disjoint under random inserts (against a brute-force model)", () => {
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const t = new RegionTree()
    const letters = "abcdefghijklmnop"
    for (let i = 1; i <= 400; i++) {
      const a = rand(letters.length)
      const b = a + 1 + rand(letters.length - a)
      const start = a === 0 ? "" : letters[a]!
      const end = b >= letters.length ? "" : letters[b]!
      t.put(info(i, start, end))
      const all = t.all()
      for (let j = 1; j < all.length; j++) {
        const prev = all[j - 1]!.region
        const cur = all[j]!.region
        assert.isTrue(prev.endKey.length > 0 && fromUtf8(prev.endKey) <= fromUtf8(cur.startKey), "disjoint, ordered")
      }
      // the newest region always covers its whole range
      for (let k = a; k < Math.min(b, letters.length); k++) {
        assert.strictEqual(idAt(t, k === 0 ? "" : letters[k]!), i)
      }
      for (const r of all) assert.strictEqual(t.get(r.region.id), r)
    }
  })
})
