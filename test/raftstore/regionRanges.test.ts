/**
 * The store's index of its regions' key ranges (`RegionRanges`): against a brute-force scan of the same
 * disjoint ranges, through splits, merges of neighbours, removals and re-additions, in a seeded random
 * order. A failure names its seed (`REGION_RANGES_SEED=<seed>` replays it).
 */
import { assert, describe, it } from "@effect/vitest"
import { utf8 } from "../../src/protocol/bytes.js"
import { mulberry32 } from "../../src/raft/index.js"
import { RegionRanges } from "../../src/raftstore/regionRanges.js"
import { type KeyRange, rangesOverlap } from "../../src/raftstore/regionUtil.js"

const b = (s: string) => utf8(s)
const range = (start: string, end: string): KeyRange => ({ startKey: b(start), endKey: b(end) })
/** Keys "k000" … "k199"; the empty key is the unbounded end. */
const key = (i: number) => (i <= 0 ? "" : i >= 200 ? "" : `k${String(i).padStart(3, "0")}`)

describe("RegionRanges", () => {
  it("finds the region a range overlaps, skipping the one asked about", () => {
    const ranges = new RegionRanges<string>()
    ranges.set("left", range("", "b"))
    ranges.set("middle", range("b", "d"))
    ranges.set("right", range("d", ""))
    assert.strictEqual(ranges.overlapping(range("a", "a1")), "left")
    assert.strictEqual(ranges.overlapping(range("b", "c")), "middle")
    assert.strictEqual(ranges.overlapping(range("c", "e")), "right")
    assert.strictEqual(ranges.overlapping(range("c", "d")), "middle")
    assert.strictEqual(ranges.overlapping(range("x", "")), "right")
    assert.strictEqual(ranges.overlapping(range("c", "e"), "right"), "middle")
    assert.isUndefined(ranges.overlapping(range("d", "e"), "right"))
    ranges.delete("middle")
    assert.isUndefined(ranges.overlapping(range("b", "d")))
    // a split: the left part keeps its owner, the right part is new
    ranges.set("left", range("", "a"))
    ranges.set("new", range("a", "b"))
    assert.strictEqual(ranges.overlapping(range("a", "a1")), "new")
    assert.deepStrictEqual(
      ranges.entries().map(([owner]) => owner),
      ["left", "new", "right"]
    )
    // an uninitialized region has no range
    ranges.set("right", undefined)
    assert.strictEqual(ranges.size, 2)
    assert.isUndefined(ranges.overlapping(range("x", "")))
  })

  it("agrees with a scan of every range through random splits, merges and removals", () => {
    const base = Number(process.env.REGION_RANGES_SEED ?? 20261207)
    for (let run = 0; run < 20; run++) {
      const seed = base + run
      const rng = mulberry32(seed)
      const pick = (n: number) => Math.floor(rng() * n)
      // boundaries of disjoint regions over 0..200 (0 and 200 are the unbounded ends); a region may be absent
      let cuts = [0, 200]
      const present = new Map<number, boolean>([[0, true]]) // by start boundary
      const owner = (start: number) => `r${start}`
      const ranges = new RegionRanges<string>()
      ranges.set(owner(0), range(key(0), key(200)))
      for (let step = 0; step < 300; step++) {
        const i = pick(cuts.length - 1)
        const start = cuts[i]!
        const end = cuts[i + 1]!
        const what = pick(4)
        if (what === 0 && end - start > 1) {
          // split [start, end) at a key inside it
          const at = start + 1 + pick(end - start - 1)
          cuts = [...cuts.slice(0, i + 1), at, ...cuts.slice(i + 1)]
          if (present.get(start)) {
            ranges.set(owner(start), range(key(start), key(at)))
            ranges.set(owner(at), range(key(at), key(end)))
            present.set(at, true)
          } else present.set(at, false)
        } else if (what === 1 && i + 2 < cuts.length) {
          // merge with the right neighbour
          const next = cuts[i + 2]!
          ranges.delete(owner(end))
          present.delete(end)
          cuts = [...cuts.slice(0, i + 1), ...cuts.slice(i + 2)]
          if (present.get(start)) ranges.set(owner(start), range(key(start), key(next)))
        } else if (what === 2) {
          // the region leaves the store, or comes back (a snapshot)
          const now = !present.get(start)
          present.set(start, now)
          ranges.set(owner(start), now ? range(key(start), key(end)) : undefined)
        }
        // every query against the scan
        const s = pick(201)
        const e = s + 1 + pick(200 - s)
        const query = range(key(s), key(e))
        const regions = cuts
          .slice(0, -1)
          .map((c, j) => ({ owner: owner(c), range: range(key(c), key(cuts[j + 1]!)), present: present.get(c) }))
          .filter((r) => r.present)
        const except = regions.length > 0 && pick(3) === 0 ? regions[pick(regions.length)]!.owner : undefined
        const expected = regions.filter((r) => r.owner !== except && rangesOverlap(r.range, query)).map((r) => r.owner)
        const found = ranges.overlapping(query, except)
        const context = `seed ${seed} step ${step}: [${key(s)}, ${key(e)}) except ${except}`
        if (expected.length === 0) assert.isUndefined(found, context)
        else assert.include(expected, found, context)
        assert.strictEqual(ranges.size, regions.length, context)
      }
    }
  })
})
