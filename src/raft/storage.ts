/**
 * Raft log storage: the read-only interface the core consumes, and `MemoryStorage`, the in-memory reference
 * implementation used by tests (TinyKV `raft/storage.go`).
 *
 * The interface is synchronous on purpose: the core is a plain state machine and reads the log while it steps.
 * The raftstore implements it over its disk engine (synchronous LMDB reads), with TinyKV's layout in which an
 * initialized region's log starts at index 6 (truncated state 5/5): `firstIndex() = 6`, `term(5) = 5`,
 * `entries(lo < 6, …) = Compacted`. Nothing here assumes the log starts at 1.
 *
 * Writes (append, hard state, snapshots) are the application's job, driven by `Ready` (see `ready.ts`).
 */
import type { ConfState, Entry, HardState, Snapshot } from "../protocol/eraftpb.js"
import {
  type Compacted,
  compacted,
  invariant,
  type SnapOutOfDate,
  type SnapshotTemporarilyUnavailable,
  snapOutOfDate,
  type Unavailable,
  unavailable
} from "./errors.js"
import { EMPTY_DATA, emptyConfState, emptyHardState } from "./util.js"

export interface InitialState {
  readonly hardState: HardState
  readonly confState: ConfState
}

/**
 * What the Raft core reads from durable storage. Every method is synchronous; an IO failure is a defect
 * of the implementation (it may throw), the expected outcomes are returned values.
 */
export interface Storage {
  /** The saved HardState and the ConfState of the latest snapshot (TinyKV `InitialState`). */
  initialState(): InitialState
  /**
   * Entries in `[lo, hi)`. `Compacted` if `lo < firstIndex()`, `Unavailable` if the range cannot be served.
   * `hi` must not exceed `lastIndex() + 1` (that would be a caller bug).
   */
  entries(lo: number, hi: number): ReadonlyArray<Entry> | Compacted | Unavailable
  /**
   * The term of entry `i`, for `i` in `[firstIndex() - 1, lastIndex()]`: the entry just before the first one is
   * kept for matching (it is the snapshot's index/term). `Compacted` below that, `Unavailable` above `lastIndex()`.
   */
  term(i: number): number | Compacted | Unavailable
  /** Index of the last entry (or of the snapshot if the log is empty). */
  lastIndex(): number
  /** Index of the first entry that `entries` may return (snapshot index + 1). */
  firstIndex(): number
  /** The most recent snapshot, or `SnapshotTemporarilyUnavailable` while one is being built. */
  snapshot(): Snapshot | SnapshotTemporarilyUnavailable
}

/**
 * In-memory `Storage` with TinyKV's layout: `ents[0]` is a dummy entry holding the snapshot's index and term,
 * so `ents[i]` has log index `ents[0].index + i`. A fresh storage has the dummy at index 0, term 0.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState
  private snap: Snapshot = { data: EMPTY_DATA, metadata: { confState: emptyConfState, index: 0, term: 0 } }
  // Invariant: ents.length >= 1; ents[i].index === ents[0].index + i.
  private ents: Entry[] = [{ entryType: "EntryNormal", term: 0, index: 0, data: EMPTY_DATA }]

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.metadata.confState }
  }

  /** Saves the current HardState. */
  setHardState(hs: HardState): void {
    this.hardState = hs
  }

  entries(lo: number, hi: number): ReadonlyArray<Entry> | Compacted | Unavailable {
    const offset = this.ents[0]!.index
    if (lo <= offset) return compacted
    invariant(hi <= this.lastIndex() + 1, () => `entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`)
    if (this.ents.length === 1 && hi > lo) return unavailable // only the dummy entry
    return this.ents.slice(lo - offset, hi - offset)
  }

  term(i: number): number | Compacted | Unavailable {
    const offset = this.ents[0]!.index
    if (i < offset) return compacted
    if (i - offset >= this.ents.length) return unavailable
    return this.ents[i - offset]!.term
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1
  }

  snapshot(): Snapshot {
    return this.snap
  }

  /** Replaces the whole contents with `snap` (a follower installing a leader's snapshot). */
  applySnapshot(snap: Snapshot): SnapOutOfDate | undefined {
    if (this.snap.metadata.index >= snap.metadata.index) return snapOutOfDate
    this.snap = snap
    this.ents = [{ entryType: "EntryNormal", term: snap.metadata.term, index: snap.metadata.index, data: EMPTY_DATA }]
    return undefined
  }

  /**
   * Records a snapshot of the state machine at index `i` (which must be in the log). Pass the ConfState as of `i`
   * (the result of the last `applyConfChange` up to `i`); when omitted the previous snapshot's ConfState is kept.
   */
  createSnapshot(i: number, cs?: ConfState, data?: Uint8Array): Snapshot | SnapOutOfDate {
    if (i <= this.snap.metadata.index) return snapOutOfDate
    const offset = this.ents[0]!.index
    invariant(i <= this.lastIndex(), () => `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`)
    this.snap = {
      data: data ?? EMPTY_DATA,
      metadata: { confState: cs ?? this.snap.metadata.confState, index: i, term: this.ents[i - offset]!.term }
    }
    return this.snap
  }

  /**
   * Discards every entry before `compactIndex` (which becomes the new dummy). The application must not compact
   * past what it has applied.
   */
  compact(compactIndex: number): Compacted | undefined {
    const offset = this.ents[0]!.index
    if (compactIndex <= offset) return compacted
    invariant(
      compactIndex <= this.lastIndex(),
      () => `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`
    )
    const i = compactIndex - offset
    const head = this.ents[i]!
    const rest = this.ents.slice(i + 1)
    rest.unshift({ entryType: "EntryNormal", term: head.term, index: head.index, data: EMPTY_DATA })
    this.ents = rest
    return undefined
  }

  /**
   * Appends `entries` (consecutive indexes), first deleting every stored entry at or after `entries[0].index`:
   * a leader may overwrite an uncommitted suffix (Raft paper §5.3), and the stale suffix must not survive it
   * (a known TinyKV pitfall). Entries below `firstIndex()` are skipped.
   */
  append(entries: ReadonlyArray<Entry>): void {
    if (entries.length === 0) return
    const first = this.firstIndex()
    const start = entries[0]!.index
    const last = start + entries.length - 1
    if (last < first) return // everything is already compacted
    const fresh = first > start ? entries.slice(first - start) : entries
    const offset = fresh[0]!.index - this.ents[0]!.index
    invariant(
      offset <= this.ents.length,
      () => `missing log entry [last: ${this.lastIndex()}, append at: ${fresh[0]!.index}]`
    )
    if (offset < this.ents.length) this.ents.length = offset
    for (const e of fresh) this.ents.push(e)
  }
}
