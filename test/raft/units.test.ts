/**
 * Small pure modules: quorum arithmetic, the seeded PRNG, the describe formatters, outcome values.
 */
import { describe, expect, it } from "vitest"
import {
  committedIndex,
  compacted,
  deriveSeed,
  describeEntry,
  describeMessage,
  describeReady,
  encodeConfChange,
  EMPTY_DATA,
  isRaftFailure,
  mulberry32,
  proposalDropped,
  quorum,
  RaftInvariantError,
  randomInt,
  voteResult
} from "../../src/raft/index.js"
import { enc, ent, msg } from "./helpers.js"

describe("quorum", () => {
  it("quorum is a strict majority", () => {
    expect([1, 2, 3, 4, 5, 6].map(quorum)).toEqual([1, 2, 2, 3, 3, 4])
  })

  it("committedIndex is the highest index a majority has", () => {
    expect(committedIndex([])).toBe(0)
    expect(committedIndex([5])).toBe(5)
    expect(committedIndex([5, 1])).toBe(1)
    expect(committedIndex([5, 1, 3])).toBe(3)
    expect(committedIndex([2, 9, 9, 1])).toBe(2)
    expect(committedIndex([7, 2, 9, 4, 1])).toBe(4)
  })

  it("voteResult wins with a majority of grants, loses with a majority of rejections", () => {
    const v = (...pairs: Array<[number, boolean]>) => new Map(pairs)
    expect(voteResult([1], v([1, true]))).toBe("Won")
    expect(voteResult([1, 2, 3], v([1, true]))).toBe("Pending")
    expect(voteResult([1, 2, 3], v([1, true], [2, true]))).toBe("Won")
    expect(voteResult([1, 2, 3], v([1, true], [2, false], [3, false]))).toBe("Lost")
    expect(voteResult([1, 2, 3, 4, 5], v([1, true], [2, false], [3, false]))).toBe("Pending")
    // Votes from non-members do not count.
    expect(voteResult([1, 2, 3], v([1, true], [9, true]))).toBe("Pending")
  })
})

describe("rng", () => {
  it("mulberry32 is deterministic per seed and uniform-ish in [0, 1)", () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const xs = Array.from({ length: 1000 }, () => a())
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()))
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05)
    expect(mulberry32(43)()).not.toBe(mulberry32(42)())
  })

  it("randomInt covers [lo, hi) and deriveSeed separates streams", () => {
    const r = mulberry32(7)
    const seen = new Set(Array.from({ length: 500 }, () => randomInt(r, 10, 20)))
    expect([...seen].sort((x, y) => x - y)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    expect(deriveSeed(1, 2)).toBe(deriveSeed(1, 2))
    expect(new Set([deriveSeed(1, 2), deriveSeed(2, 1), deriveSeed(1, 3), deriveSeed(2, 2)]).size).toBe(4)
  })
})

describe("describe and outcomes", () => {
  it("formats entries, messages and readies compactly", () => {
    expect(describeEntry(ent(2, 7, "put k"))).toBe('2/7 "put k"')
    expect(describeEntry(ent(2, 7))).toBe("2/7")
    expect(
      describeEntry({
        entryType: "EntryConfChange",
        term: 3,
        index: 9,
        data: encodeConfChange({ changeType: "AddNode", nodeId: 4, context: EMPTY_DATA })
      })
    ).toBe("3/9 CC AddNode 4")
    expect(
      describeMessage(
        msg({
          msgType: "MsgAppend",
          from: 1,
          to: 2,
          term: 3,
          logTerm: 2,
          index: 5,
          commit: 4,
          entries: [ent(3, 6, "x")]
        })
      )
    ).toBe('1->2 MsgAppend Term:3 Log:2/5 Commit:4 Entries:[3/6 "x"]')
    expect(describeEntry(ent(1, 1, "\u0001\u0002"))).toBe("1/1 0102")
    expect(describeReady({ entries: [], committedEntries: [], messages: [], mustSync: false })).toBe("<empty Ready>")
    expect(enc("a")).toEqual(new Uint8Array([97]))
  })

  it("outcomes are returned values; RaftInvariantError is an Error", () => {
    expect(isRaftFailure(compacted)).toBe(true)
    expect(isRaftFailure(proposalDropped)).toBe(true)
    expect(isRaftFailure(3)).toBe(false)
    expect(proposalDropped._tag).toBe("ProposalDropped")
    const e = new RaftInvariantError("boom")
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe("RaftInvariantError")
  })
})
