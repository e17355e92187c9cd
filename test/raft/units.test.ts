/**
 * Small pure modules: quorum arithmetic, the seeded PRNG, the describe formatters, outcome values.
 */
import { assert, describe, it } from "@effect/vitest"
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
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6].map(quorum), [1, 2, 2, 3, 3, 4])
  })

  it("committedIndex is the highest index a majority has", () => {
    assert.strictEqual(committedIndex([]), 0)
    assert.strictEqual(committedIndex([5]), 5)
    assert.strictEqual(committedIndex([5, 1]), 1)
    assert.strictEqual(committedIndex([5, 1, 3]), 3)
    assert.strictEqual(committedIndex([2, 9, 9, 1]), 2)
    assert.strictEqual(committedIndex([7, 2, 9, 4, 1]), 4)
  })

  it("voteResult wins with a majority of grants, loses with a majority of rejections", () => {
    const v = (...pairs: Array<[number, boolean]>) => new Map(pairs)
    assert.strictEqual(voteResult([1], v([1, true])), "Won")
    assert.strictEqual(voteResult([1, 2, 3], v([1, true])), "Pending")
    assert.strictEqual(voteResult([1, 2, 3], v([1, true], [2, true])), "Won")
    assert.strictEqual(voteResult([1, 2, 3], v([1, true], [2, false], [3, false])), "Lost")
    assert.strictEqual(voteResult([1, 2, 3, 4, 5], v([1, true], [2, false], [3, false])), "Pending")
    // Votes from non-members do not count.
    assert.strictEqual(voteResult([1, 2, 3], v([1, true], [9, true])), "Pending")
  })
})

describe("rng", () => {
  it("mulberry32 is deterministic per seed and uniform-ish in [0, 1)", () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const xs = Array.from({ length: 1000 }, () => a())
    assert.deepStrictEqual(
      xs,
      Array.from({ length: 1000 }, () => b())
    )
    assert.isAtLeast(Math.min(...xs), 0)
    assert.isBelow(Math.max(...xs), 1)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    assert.isBelow(Math.abs(mean - 0.5), 0.05)
    assert.notStrictEqual(mulberry32(43)(), mulberry32(42)())
  })

  it("randomInt covers [lo, hi) and deriveSeed separates streams", () => {
    const r = mulberry32(7)
    const seen = new Set(Array.from({ length: 500 }, () => randomInt(r, 10, 20)))
    assert.deepStrictEqual(
      [...seen].sort((x, y) => x - y),
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    )
    assert.strictEqual(deriveSeed(1, 2), deriveSeed(1, 2))
    assert.strictEqual(new Set([deriveSeed(1, 2), deriveSeed(2, 1), deriveSeed(1, 3), deriveSeed(2, 2)]).size, 4)
  })
})

describe("describe and outcomes", () => {
  it("formats entries, messages and readies compactly", () => {
    assert.strictEqual(describeEntry(ent(2, 7, "put k")), '2/7 "put k"')
    assert.strictEqual(describeEntry(ent(2, 7)), "2/7")
    assert.strictEqual(
      describeEntry({
        entryType: "EntryConfChange",
        term: 3,
        index: 9,
        data: encodeConfChange({ changeType: "AddNode", nodeId: 4, context: EMPTY_DATA })
      }),
      "3/9 CC AddNode 4"
    )
    assert.strictEqual(
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
      ),
      '1->2 MsgAppend Term:3 Log:2/5 Commit:4 Entries:[3/6 "x"]'
    )
    assert.strictEqual(describeEntry(ent(1, 1, "\u0001\u0002")), "1/1 0102")
    assert.strictEqual(
      describeReady({ entries: [], committedEntries: [], messages: [], readStates: [], mustSync: false }),
      "<empty Ready>"
    )
    assert.deepStrictEqual(enc("a"), new Uint8Array([97]))
  })

  it("outcomes are returned values; RaftInvariantError is an Error", () => {
    assert.strictEqual(isRaftFailure(compacted), true)
    assert.strictEqual(isRaftFailure(proposalDropped), true)
    assert.strictEqual(isRaftFailure(3), false)
    assert.strictEqual(proposalDropped._tag, "ProposalDropped")
    const e = new RaftInvariantError("boom")
    assert.instanceOf(e, Error)
    assert.strictEqual(e.name, "RaftInvariantError")
  })
})
