/**
 * The Raft log as one node sees it: the durable part (in `Storage`) plus the not-yet-persisted tail, with the
 * commit/apply/stable cursors (TinyKV `raft/log.go`).
 *
 * Layout, as in TinyKV:
 *
 *     snapshot/first.....applied....committed....stabled.....last
 *     --------|------------------------------------------------|
 *                               log entries
 *
 * Like TinyKV (and unlike etcd's `unstable`), every non-compacted entry is kept in memory in `entries`; the ones
 * with index > `stabled` are the unstable tail that the next `Ready` hands out for persistence. `maybeCompact`
 * (called from `RawNode.advance`) drops the prefix the storage has compacted.
 */
import type { Entry, Snapshot } from "../protocol/eraftpb.js"
import {
  type Compacted,
  compacted,
  invariant,
  isRaftFailure,
  RaftInvariantError,
  type SnapshotTemporarilyUnavailable,
  type Unavailable,
  unavailable
} from "./errors.js"
import type { Storage } from "./storage.js"

export class RaftLog {
  readonly storage: Storage
  /**
   * Highest index known to be stored on a quorum. Invariant: `offset - 1 <= committed <= lastIndex()`,
   * and it never decreases while the node is up.
   */
  committed: number
  /** Highest index the application has applied (reported through `advance`). Invariant: `applied <= committed`. */
  applied: number
  /**
   * Every entry with index <= `stabled` is persisted in storage. Moves back when a conflicting suffix is
   * truncated. Invariant: `offset - 1 <= stabled <= lastIndex()`.
   */
  stabled: number
  /** All non-compacted entries. Invariant: `entries[i].index === offset + i`. */
  entries: Entry[]
  /** Index of `entries[0]` (or where it would be): the first index available from memory. */
  offset: number
  /** A snapshot received from the leader and not yet handed to the application via `Ready`. */
  pendingSnapshot: Snapshot | undefined = undefined

  /** TinyKV `newLog`: loads `[firstIndex, lastIndex]` from storage; `committed = applied = firstIndex - 1`. */
  constructor(storage: Storage) {
    this.storage = storage
    const first = storage.firstIndex()
    const last = storage.lastIndex()
    const ents = last >= first ? storage.entries(first, last + 1) : []
    invariant(!isRaftFailure(ents), () => `cannot load entries [${first}, ${last}] from storage`)
    this.entries = (ents as ReadonlyArray<Entry>).slice()
    this.offset = first
    this.stabled = last
    this.committed = first - 1
    this.applied = first - 1
  }

  /** First index that `slice` can serve from memory. */
  firstIndex(): number {
    return this.offset
  }

  lastIndex(): number {
    return this.offset + this.entries.length - 1
  }

  /**
   * Term of entry `i`. Served from memory, then from the pending snapshot (its index), then from storage (which
   * also knows the term of the entry just before its first one). `Unavailable` past the last index.
   */
  term(i: number): number | Compacted | Unavailable {
    if (i >= this.offset) {
      const e = this.entries[i - this.offset]
      return e === undefined ? unavailable : e.term
    }
    const ps = this.pendingSnapshot
    if (ps !== undefined) return i === ps.metadata.index ? ps.metadata.term : compacted
    // i < offset: only the storage's dummy entry (offset - 1) can still be known; storage answers Compacted below.
    return this.storage.term(i)
  }

  /** Term of the last entry; always known. */
  lastTerm(): number {
    return this.mustTerm(this.lastIndex())
  }

  /** `term(i)` for an index that must be known (a defect otherwise). */
  mustTerm(i: number): number {
    const t = this.term(i)
    invariant(typeof t === "number", () => `term(${i}) is not available: ${(t as Compacted).message}`)
    return t
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term
  }

  /**
   * Raft paper §5.4.1 "at least as up-to-date": a candidate whose last entry is (`index`, `term`) may get our vote
   * only if its last term is higher, or equal with an index at least ours.
   */
  isUpToDate(index: number, term: number): boolean {
    const lastTerm = this.lastTerm()
    return term > lastTerm || (term === lastTerm && index >= this.lastIndex())
  }

  /** Bytes of entry data in `[lo, hi)`, of the entries in memory (those below the first are not counted). */
  dataBytes(lo: number, hi: number): number {
    let n = 0
    const end = Math.min(hi, this.lastIndex() + 1) - this.offset
    for (let i = Math.max(lo - this.offset, 0); i < end; i++) n += this.entries[i]!.data.length
    return n
  }

  /** Entries in `[lo, hi)`, from memory. `Compacted` when `lo` is below the in-memory first index. */
  slice(lo: number, hi: number): ReadonlyArray<Entry> | Compacted {
    if (lo < this.offset) return compacted
    if (hi > this.lastIndex() + 1)
      throw new RaftInvariantError(`slice [${lo}, ${hi}) out of bound lastindex(${this.lastIndex()})`)
    if (lo >= hi) return []
    return this.entries.slice(lo - this.offset, hi - this.offset)
  }

  /** All non-compacted entries (TinyKV `allEntries`). */
  allEntries(): Entry[] {
    return this.entries.slice()
  }

  /** Entries not yet persisted: index > `stabled` (TinyKV `unstableEntries`). */
  unstableEntries(): Entry[] {
    return this.entries.slice(this.stabled + 1 - this.offset)
  }

  hasUnstableEntries(): boolean {
    return this.lastIndex() > this.stabled
  }

  /** Committed but not yet applied entries: `(applied, committed]` (TinyKV `nextEnts`). */
  nextEnts(): Entry[] {
    if (this.committed <= this.applied) return []
    invariant(this.applied + 1 >= this.offset, () => `applied ${this.applied} is below first index ${this.offset}`)
    return this.entries.slice(this.applied + 1 - this.offset, this.committed + 1 - this.offset)
  }

  hasNextEnts(): boolean {
    return this.committed > this.applied
  }

  /** The snapshot to send a lagging follower: the pending one if any, else the storage's. */
  snapshot(): Snapshot | SnapshotTemporarilyUnavailable {
    return this.pendingSnapshot ?? this.storage.snapshot()
  }

  /** Leader-side append of new entries right after the last one. Returns the new last index. */
  append(ents: ReadonlyArray<Entry>): number {
    for (const e of ents) {
      if (e.index !== this.offset + this.entries.length)
        throw new RaftInvariantError(`append gap: entry ${e.index} after last ${this.lastIndex()}`)
      this.entries.push(e)
    }
    return this.lastIndex()
  }

  /**
   * Follower-side append (Raft paper §5.3, AppendEntries receiver rules 3 and 4): entries that already match are
   * kept, the first conflicting entry and everything after it are deleted, the rest is appended. The caller has
   * checked that the entry before `ents[0]` matches. Moves `stabled` back past a truncation.
   */
  appendFollower(ents: ReadonlyArray<Entry>): void {
    for (let k = 0; k < ents.length; k++) {
      const e = ents[k]!
      if (e.index <= this.lastIndex()) {
        if (this.term(e.index) === e.term) continue // already present (duplicate or reordered message)
        invariant(
          e.index > this.committed,
          () => `entry ${e.index} conflicts with committed entry (committed ${this.committed})`
        )
        invariant(e.index >= this.offset, () => `conflict ${e.index} below first index ${this.offset}`)
        this.entries.length = e.index - this.offset
        this.stabled = Math.min(this.stabled, e.index - 1)
      }
      this.append(k === 0 ? ents : ents.slice(k))
      return
    }
  }

  /**
   * The largest index `<= index` whose term is `<= term`, searching no lower than `floor` (etcd `findConflictByTerm`).
   * Used on both sides of a rejected MsgAppend to skip a whole divergent term in one round trip.
   */
  findConflictByTerm(index: number, term: number, floor: number): number {
    let i = Math.min(index, this.lastIndex())
    while (i > floor) {
      const t = this.term(i)
      if (typeof t !== "number" || t <= term) break
      i--
    }
    return i
  }

  /** Raises the commit index; never lowers it. */
  commitTo(i: number): void {
    if (i <= this.committed) return
    if (i > this.lastIndex())
      throw new RaftInvariantError(`commit ${i} is out of range [last index ${this.lastIndex()}]`)
    this.committed = i
  }

  appliedTo(i: number): void {
    if (i === 0) return
    if (i > this.committed || i < this.applied)
      throw new RaftInvariantError(
        `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`
      )
    this.applied = i
  }

  /** Marks entries up to `i` persisted, if entry `i` still has `term` (the log may not change between ready/advance). */
  stableTo(i: number, term: number): void {
    if (this.term(i) !== term)
      throw new RaftInvariantError(
        `advance: persisted entry ${i}@${term} is no longer in the log (log changed between ready and advance)`
      )
    if (i > this.stabled) this.stabled = i
  }

  /**
   * Resets the log to a snapshot received from the leader (TinyKV `handleSnapshot`): the whole log is replaced;
   * everything up to the snapshot index is committed, applied (by installing the snapshot) and, once the
   * application persists the snapshot, stable.
   */
  restore(snap: Snapshot): void {
    const index = snap.metadata.index
    this.entries = []
    this.offset = index + 1
    this.committed = index
    this.applied = index
    this.stabled = index
    this.pendingSnapshot = snap
  }

  /** Drops in-memory entries the storage has compacted (TinyKV `maybeCompact`), never unpersisted ones. */
  maybeCompact(): void {
    if (this.pendingSnapshot !== undefined) return
    const first = this.storage.firstIndex()
    if (first <= this.offset) return
    invariant(
      first - 1 <= this.stabled && first - 1 <= this.applied,
      () => `storage compacted to ${first - 1} past stabled ${this.stabled} / applied ${this.applied}`
    )
    this.entries = this.entries.slice(first - this.offset)
    this.offset = first
  }

  /** Throws `RaftInvariantError` unless the cursors and the entry indexes are consistent. */
  checkInvariants(): void {
    const last = this.lastIndex()
    invariant(
      this.offset - 1 <= this.applied && this.applied <= this.committed && this.committed <= last,
      () => `log cursors: first ${this.offset} applied ${this.applied} committed ${this.committed} last ${last}`
    )
    invariant(
      this.offset - 1 <= this.stabled && this.stabled <= last,
      () => `log cursors: first ${this.offset} stabled ${this.stabled} last ${last}`
    )
    const n = this.entries.length
    invariant(
      n === 0 || (this.entries[0]!.index === this.offset && this.entries[n - 1]!.index === last),
      () => `log entries do not start at ${this.offset} / end at ${last}`
    )
  }
}
