/**
 * MemoryStorage (TinyKV `raft/storage.go`; cases after etcd's `storage_test.go`) and RaftLog unit tests.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Compacted,
  compacted,
  EMPTY_DATA,
  MemoryStorage,
  RaftInvariantError,
  RaftLog,
  snapOutOfDate,
  unavailable
} from "../../src/raft/index.js"
import { ent } from "./helpers.js"

/** A storage holding entries 3@3, 4@4, 5@5 after a snapshot at 3 (TinyKV's etcd-derived fixture). */
const fixture = (): MemoryStorage => {
  const s = new MemoryStorage()
  s.applySnapshot({ data: EMPTY_DATA, metadata: { confState: { nodes: [1] }, index: 3, term: 3 } })
  s.append([ent(4, 4), ent(5, 5)])
  return s
}

describe("MemoryStorage", () => {
  it("term: compacted below the dummy, unavailable past the end", () => {
    const s = fixture()
    assert.strictEqual(s.term(2), compacted)
    assert.strictEqual(s.term(3), 3)
    assert.strictEqual(s.term(4), 4)
    assert.strictEqual(s.term(5), 5)
    assert.strictEqual(s.term(6), unavailable)
  })

  it("entries: [lo, hi), compacted at or below the snapshot index", () => {
    const s = fixture()
    assert.strictEqual(s.entries(2, 6), compacted)
    assert.strictEqual(s.entries(3, 4), compacted)
    assert.deepStrictEqual(s.entries(4, 5), [ent(4, 4)])
    assert.deepStrictEqual(s.entries(4, 6), [ent(4, 4), ent(5, 5)])
    assert.deepStrictEqual(s.entries(5, 5), [])
    assert.throws(() => s.entries(4, 7), RaftInvariantError)
    assert.deepStrictEqual(new MemoryStorage().entries(1, 1), [])
  })

  it("firstIndex / lastIndex follow the dummy entry", () => {
    const s = fixture()
    assert.deepStrictEqual([s.firstIndex(), s.lastIndex()], [4, 5])
    s.append([ent(5, 6)])
    assert.strictEqual(s.lastIndex(), 6)
    s.compact(4)
    assert.deepStrictEqual([s.firstIndex(), s.lastIndex()], [5, 6])
    const fresh = new MemoryStorage()
    assert.deepStrictEqual([fresh.firstIndex(), fresh.lastIndex()], [1, 0])
  })

  it("compact: keeps the compacted entry's term as the dummy", () => {
    const cases = [
      { i: 2, err: compacted, index: 3, term: 3, len: 3 },
      { i: 3, err: compacted, index: 3, term: 3, len: 3 },
      { i: 4, err: undefined, index: 4, term: 4, len: 2 },
      { i: 5, err: undefined, index: 5, term: 5, len: 1 }
    ]
    for (const tt of cases) {
      const s = fixture()
      assert.strictEqual(s.compact(tt.i), tt.err)
      assert.strictEqual(s.firstIndex() - 1, tt.index)
      assert.strictEqual(s.term(tt.index), tt.term)
      assert.strictEqual(s.lastIndex() - s.firstIndex() + 2, tt.len)
    }
    assert.throws(() => fixture().compact(6), RaftInvariantError)
  })

  it("createSnapshot: records index, term, ConfState and data; refuses older snapshots", () => {
    const s = fixture()
    const snap = s.createSnapshot(4, { nodes: [1, 2, 3] }, new Uint8Array([1, 2]))
    assert.deepStrictEqual(snap, {
      data: new Uint8Array([1, 2]),
      metadata: { index: 4, term: 4, confState: { nodes: [1, 2, 3] } }
    })
    assert.strictEqual(s.snapshot(), snap)
    assert.strictEqual(s.createSnapshot(4), snapOutOfDate)
    const snap5 = s.createSnapshot(5)
    assert.deepStrictEqual("metadata" in snap5 ? snap5.metadata : snap5, {
      index: 5,
      term: 5,
      confState: { nodes: [1, 2, 3] }
    })
    assert.throws(() => s.createSnapshot(6), RaftInvariantError)
  })

  it("append: overwrites conflicting suffixes, skips compacted prefixes, refuses gaps", () => {
    const cases: Array<{ entries: ReturnType<typeof ent>[]; want: number[] | "gap" }> = [
      { entries: [ent(3, 3), ent(4, 4), ent(5, 5)], want: [4, 5] },
      { entries: [ent(3, 3), ent(6, 4), ent(6, 5)], want: [6, 6] },
      { entries: [ent(3, 3), ent(4, 4), ent(5, 5), ent(5, 6)], want: [4, 5, 5] },
      // truncate incoming entries, truncate the existing ones and append
      { entries: [ent(2, 2), ent(3, 3), ent(4, 4), ent(5, 5)], want: [4, 5] },
      // truncate the existing entries and append
      { entries: [ent(5, 4)], want: [5] },
      // direct append
      { entries: [ent(5, 6)], want: [4, 5, 5] },
      { entries: [ent(5, 7)], want: "gap" }
    ]
    cases.forEach((tt, i) => {
      const s = fixture()
      if (tt.want === "gap") {
        assert.throws(() => s.append(tt.entries), RaftInvariantError, undefined, `#${i}`)
        return
      }
      s.append(tt.entries)
      const got = s.entries(4, s.lastIndex() + 1) as ReturnType<typeof ent>[]
      assert.deepStrictEqual(
        got.map((e) => e.term),
        tt.want,
        `#${i}`
      )
    })
  })

  it("applySnapshot: replaces the log; an older snapshot is SnapOutOfDate", () => {
    const s = new MemoryStorage()
    const snap = (index: number) => ({ data: EMPTY_DATA, metadata: { confState: { nodes: [1, 2] }, index, term: 4 } })
    assert.isUndefined(s.applySnapshot(snap(4)))
    assert.deepStrictEqual([s.firstIndex(), s.lastIndex(), s.term(4)], [5, 4, 4])
    assert.deepStrictEqual(s.initialState().confState, { nodes: [1, 2] })
    assert.strictEqual(s.applySnapshot(snap(3)), snapOutOfDate)
    assert.strictEqual(s.applySnapshot(snap(4)), snapOutOfDate)
  })

  it("supports a log that starts at index 6 (the raftstore's truncated 5/5 layout)", () => {
    const s = new MemoryStorage()
    s.applySnapshot({ data: EMPTY_DATA, metadata: { confState: { nodes: [1, 2, 3] }, index: 5, term: 5 } })
    s.setHardState({ term: 5, vote: 0, commit: 5 })
    const log = new RaftLog(s)
    assert.deepStrictEqual(
      [log.firstIndex(), log.lastIndex(), log.lastTerm(), log.committed, log.applied],
      [6, 5, 5, 5, 5]
    )
    assert.instanceOf(log.term(4), Compacted)
  })
})

describe("RaftLog", () => {
  const withEntries = (n: number) => {
    const s = new MemoryStorage()
    s.append(Array.from({ length: n }, (_, k) => ent(1, k + 1)))
    return { s, log: new RaftLog(s) }
  }

  it("starts with everything stable and nothing committed", () => {
    const { log } = withEntries(3)
    assert.deepStrictEqual(
      [log.firstIndex(), log.lastIndex(), log.stabled, log.committed, log.applied],
      [1, 3, 3, 0, 0]
    )
    assert.deepStrictEqual(log.unstableEntries(), [])
    assert.deepStrictEqual(log.allEntries(), [ent(1, 1), ent(1, 2), ent(1, 3)])
  })

  it("nextEnts is (applied, committed]", () => {
    const { log } = withEntries(5)
    log.commitTo(4)
    log.appliedTo(2)
    assert.deepStrictEqual(log.nextEnts(), [ent(1, 3), ent(1, 4)])
    assert.throws(() => log.commitTo(9), RaftInvariantError)
    assert.throws(() => log.appliedTo(5), RaftInvariantError)
    log.commitTo(2) // never lowers
    assert.strictEqual(log.committed, 4)
  })

  it("appendFollower keeps matching entries and truncates from the first conflict", () => {
    const { log } = withEntries(4)
    log.appendFollower([ent(1, 2), ent(1, 3)])
    assert.strictEqual(log.lastIndex(), 4)
    assert.strictEqual(log.stabled, 4)
    log.appendFollower([ent(1, 3), ent(2, 4), ent(2, 5)])
    assert.deepStrictEqual(
      log.allEntries().map((e) => e.term),
      [1, 1, 1, 2, 2]
    )
    assert.strictEqual(log.stabled, 3)
    assert.deepStrictEqual(log.unstableEntries(), [ent(2, 4), ent(2, 5)])
  })

  it("findConflictByTerm walks back to the last index with term <= the given term", () => {
    const s = new MemoryStorage()
    s.append([1, 1, 1, 4, 4, 5, 5, 6, 6, 6].map((t, k) => ent(t, k + 1)))
    const log = new RaftLog(s)
    assert.strictEqual(log.findConflictByTerm(10, 3, 0), 3)
    assert.strictEqual(log.findConflictByTerm(10, 5, 0), 7)
    assert.strictEqual(log.findConflictByTerm(12, 6, 0), 10)
    assert.strictEqual(log.findConflictByTerm(10, 0, 5), 5)
  })

  it("maybeCompact drops what storage compacted; slice then reports Compacted", () => {
    const { s, log } = withEntries(5)
    log.commitTo(4)
    log.appliedTo(4)
    s.compact(3)
    log.maybeCompact()
    assert.strictEqual(log.firstIndex(), 4)
    assert.strictEqual(log.slice(2, 5), compacted)
    assert.deepStrictEqual(log.slice(4, 6), [ent(1, 4), ent(1, 5)])
    assert.strictEqual(log.term(3), 1)
    assert.strictEqual(log.term(2), compacted)
    log.checkInvariants()
  })

  it("restore resets every cursor to the snapshot", () => {
    const { log } = withEntries(3)
    log.restore({ data: EMPTY_DATA, metadata: { confState: { nodes: [1] }, index: 10, term: 4 } })
    assert.deepStrictEqual(
      [log.firstIndex(), log.lastIndex(), log.committed, log.applied, log.stabled],
      [11, 10, 10, 10, 10]
    )
    assert.strictEqual(log.term(10), 4)
    assert.strictEqual(log.term(9), compacted)
    assert.strictEqual(log.lastTerm(), 4)
    log.checkInvariants()
  })
})
