/**
 * MemoryStorage (TinyKV `raft/storage.go`; cases after etcd's `storage_test.go`) and RaftLog unit tests.
 */
import { describe, expect, it } from "vitest"
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
    expect(s.term(2)).toBe(compacted)
    expect(s.term(3)).toBe(3)
    expect(s.term(4)).toBe(4)
    expect(s.term(5)).toBe(5)
    expect(s.term(6)).toBe(unavailable)
  })

  it("entries: [lo, hi), compacted at or below the snapshot index", () => {
    const s = fixture()
    expect(s.entries(2, 6)).toBe(compacted)
    expect(s.entries(3, 4)).toBe(compacted)
    expect(s.entries(4, 5)).toEqual([ent(4, 4)])
    expect(s.entries(4, 6)).toEqual([ent(4, 4), ent(5, 5)])
    expect(s.entries(5, 5)).toEqual([])
    expect(() => s.entries(4, 7)).toThrow(RaftInvariantError)
    expect(new MemoryStorage().entries(1, 1)).toEqual([])
  })

  it("firstIndex / lastIndex follow the dummy entry", () => {
    const s = fixture()
    expect([s.firstIndex(), s.lastIndex()]).toEqual([4, 5])
    s.append([ent(5, 6)])
    expect(s.lastIndex()).toBe(6)
    s.compact(4)
    expect([s.firstIndex(), s.lastIndex()]).toEqual([5, 6])
    const fresh = new MemoryStorage()
    expect([fresh.firstIndex(), fresh.lastIndex()]).toEqual([1, 0])
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
      expect(s.compact(tt.i)).toBe(tt.err)
      expect(s.firstIndex() - 1).toBe(tt.index)
      expect(s.term(tt.index)).toBe(tt.term)
      expect(s.lastIndex() - s.firstIndex() + 2).toBe(tt.len)
    }
    expect(() => fixture().compact(6)).toThrow(RaftInvariantError)
  })

  it("createSnapshot: records index, term, ConfState and data; refuses older snapshots", () => {
    const s = fixture()
    const snap = s.createSnapshot(4, { nodes: [1, 2, 3] }, new Uint8Array([1, 2]))
    expect(snap).toEqual({
      data: new Uint8Array([1, 2]),
      metadata: { index: 4, term: 4, confState: { nodes: [1, 2, 3] } }
    })
    expect(s.snapshot()).toBe(snap)
    expect(s.createSnapshot(4)).toBe(snapOutOfDate)
    expect(s.createSnapshot(5)).toMatchObject({ metadata: { index: 5, term: 5, confState: { nodes: [1, 2, 3] } } })
    expect(() => s.createSnapshot(6)).toThrow(RaftInvariantError)
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
        expect(() => s.append(tt.entries), `#${i}`).toThrow(RaftInvariantError)
        return
      }
      s.append(tt.entries)
      const got = s.entries(4, s.lastIndex() + 1) as ReturnType<typeof ent>[]
      expect(
        got.map((e) => e.term),
        `#${i}`
      ).toEqual(tt.want)
    })
  })

  it("applySnapshot: replaces the log; an older snapshot is SnapOutOfDate", () => {
    const s = new MemoryStorage()
    const snap = (index: number) => ({ data: EMPTY_DATA, metadata: { confState: { nodes: [1, 2] }, index, term: 4 } })
    expect(s.applySnapshot(snap(4))).toBeUndefined()
    expect([s.firstIndex(), s.lastIndex(), s.term(4)]).toEqual([5, 4, 4])
    expect(s.initialState().confState).toEqual({ nodes: [1, 2] })
    expect(s.applySnapshot(snap(3))).toBe(snapOutOfDate)
    expect(s.applySnapshot(snap(4))).toBe(snapOutOfDate)
  })

  it("supports a log that starts at index 6 (the raftstore's truncated 5/5 layout)", () => {
    const s = new MemoryStorage()
    s.applySnapshot({ data: EMPTY_DATA, metadata: { confState: { nodes: [1, 2, 3] }, index: 5, term: 5 } })
    s.setHardState({ term: 5, vote: 0, commit: 5 })
    const log = new RaftLog(s)
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm(), log.committed, log.applied]).toEqual([6, 5, 5, 5, 5])
    expect(log.term(4)).toBeInstanceOf(Compacted)
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
    expect([log.firstIndex(), log.lastIndex(), log.stabled, log.committed, log.applied]).toEqual([1, 3, 3, 0, 0])
    expect(log.unstableEntries()).toEqual([])
    expect(log.allEntries()).toEqual([ent(1, 1), ent(1, 2), ent(1, 3)])
  })

  it("nextEnts is (applied, committed]", () => {
    const { log } = withEntries(5)
    log.commitTo(4)
    log.appliedTo(2)
    expect(log.nextEnts()).toEqual([ent(1, 3), ent(1, 4)])
    expect(() => log.commitTo(9)).toThrow(RaftInvariantError)
    expect(() => log.appliedTo(5)).toThrow(RaftInvariantError)
    log.commitTo(2) // never lowers
    expect(log.committed).toBe(4)
  })

  it("appendFollower keeps matching entries and truncates from the first conflict", () => {
    const { log } = withEntries(4)
    log.appendFollower([ent(1, 2), ent(1, 3)])
    expect(log.lastIndex()).toBe(4)
    expect(log.stabled).toBe(4)
    log.appendFollower([ent(1, 3), ent(2, 4), ent(2, 5)])
    expect(log.allEntries().map((e) => e.term)).toEqual([1, 1, 1, 2, 2])
    expect(log.stabled).toBe(3)
    expect(log.unstableEntries()).toEqual([ent(2, 4), ent(2, 5)])
  })

  it("findConflictByTerm walks back to the last index with term <= the given term", () => {
    const s = new MemoryStorage()
    s.append([1, 1, 1, 4, 4, 5, 5, 6, 6, 6].map((t, k) => ent(t, k + 1)))
    const log = new RaftLog(s)
    expect(log.findConflictByTerm(10, 3, 0)).toBe(3)
    expect(log.findConflictByTerm(10, 5, 0)).toBe(7)
    expect(log.findConflictByTerm(12, 6, 0)).toBe(10)
    expect(log.findConflictByTerm(10, 0, 5)).toBe(5)
  })

  it("maybeCompact drops what storage compacted; slice then reports Compacted", () => {
    const { s, log } = withEntries(5)
    log.commitTo(4)
    log.appliedTo(4)
    s.compact(3)
    log.maybeCompact()
    expect(log.firstIndex()).toBe(4)
    expect(log.slice(2, 5)).toBe(compacted)
    expect(log.slice(4, 6)).toEqual([ent(1, 4), ent(1, 5)])
    expect(log.term(3)).toBe(1)
    expect(log.term(2)).toBe(compacted)
    log.checkInvariants()
  })

  it("restore resets every cursor to the snapshot", () => {
    const { log } = withEntries(3)
    log.restore({ data: EMPTY_DATA, metadata: { confState: { nodes: [1] }, index: 10, term: 4 } })
    expect([log.firstIndex(), log.lastIndex(), log.committed, log.applied, log.stabled]).toEqual([11, 10, 10, 10, 10])
    expect(log.term(10)).toBe(4)
    expect(log.term(9)).toBe(compacted)
    expect(log.lastTerm()).toBe(4)
    log.checkInvariants()
  })
})
