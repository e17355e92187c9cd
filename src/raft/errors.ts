/**
 * Outcomes of the Raft core.
 *
 * Two kinds, deliberately kept apart:
 *
 * - **Expected outcomes** (`Compacted`, `Unavailable`, `SnapshotTemporarilyUnavailable`, `SnapOutOfDate`,
 *   `ProposalDropped`, `StepLocalMsg`, `StepPeerNotFound`) are plain tagged values that are *returned*, never
 *   thrown. They mirror TinyKV's sentinel errors (`raft/storage.go`, `raft/raft.go`, `raft/rawnode.go`). Each is a
 *   class with a `_tag` and a `message`, and there is one shared instance per class, so returning one allocates
 *   nothing and `result instanceof Compacted`, `result === compacted` and `result._tag === "Compacted"` all work.
 *   An Effect shell can turn them into `Data.TaggedError`s at its boundary.
 * - **Broken invariants** throw one `RaftInvariantError`. It is a defect (etcd's `Panicf`): the log or the state
 *   machine is corrupt, or the caller broke the Ready contract. The raftstore turns it into `Effect.die` for that
 *   region; nothing catches it silently.
 */

/** Common base of every returned (not thrown) outcome, so callers can test for "any failure" in one check. */
export abstract class RaftFailure {
  abstract readonly _tag: string
  abstract readonly message: string
}

/** The requested index predates the last snapshot: it has been compacted away (TinyKV `ErrCompacted`). */
export class Compacted extends RaftFailure {
  readonly _tag = "Compacted" as const
  readonly message = "requested index is unavailable due to compaction"
}

/** The requested entry is past the end of the log (TinyKV `ErrUnavailable`). */
export class Unavailable extends RaftFailure {
  readonly _tag = "Unavailable" as const
  readonly message = "requested entry at index is unavailable"
}

/** The storage is still preparing a snapshot; the leader retries later (TinyKV `ErrSnapshotTemporarilyUnavailable`). */
export class SnapshotTemporarilyUnavailable extends RaftFailure {
  readonly _tag = "SnapshotTemporarilyUnavailable" as const
  readonly message = "snapshot is temporarily unavailable"
}

/** A snapshot older than (or as old as) the one already held was offered (TinyKV `ErrSnapOutOfDate`). */
export class SnapOutOfDate extends RaftFailure {
  readonly _tag = "SnapOutOfDate" as const
  readonly message = "requested index is older than the existing snapshot"
}

/**
 * A proposal was not appended: this node is not the leader, a leadership transfer is in progress, the leader was
 * removed from the group, or a configuration change is already pending (TinyKV `ErrProposalDropped`).
 * The proposer should retry elsewhere or later.
 */
export class ProposalDropped extends RaftFailure {
  readonly _tag = "ProposalDropped" as const
  readonly message = "raft proposal dropped"
}

/** `RawNode.step` was handed a local-only message type (MsgHup, MsgBeat) from outside (TinyKV `ErrStepLocalMsg`). */
export class StepLocalMsg extends RaftFailure {
  readonly _tag = "StepLocalMsg" as const
  readonly message = "raft: cannot step raft local message"
}

/** `RawNode.step` was handed a response from a node that is not in the group (TinyKV `ErrStepPeerNotFound`). */
export class StepPeerNotFound extends RaftFailure {
  readonly _tag = "StepPeerNotFound" as const
  readonly message = "raft: cannot step as peer not found"
}

export const compacted: Compacted = new Compacted()
export const unavailable: Unavailable = new Unavailable()
export const snapshotTemporarilyUnavailable: SnapshotTemporarilyUnavailable = new SnapshotTemporarilyUnavailable()
export const snapOutOfDate: SnapOutOfDate = new SnapOutOfDate()
export const proposalDropped: ProposalDropped = new ProposalDropped()
export const stepLocalMsg: StepLocalMsg = new StepLocalMsg()
export const stepPeerNotFound: StepPeerNotFound = new StepPeerNotFound()

/** What `Storage.term` / `Storage.entries` may return instead of a value. */
export type StorageError = Compacted | Unavailable

/** What `Raft.step` / `RawNode.step` may return instead of `undefined` (success). */
export type StepError = ProposalDropped | StepLocalMsg | StepPeerNotFound

/** True for every returned outcome value defined in this module. */
export const isRaftFailure = (u: unknown): u is RaftFailure => u instanceof RaftFailure

/**
 * A broken internal invariant: a defect, never an expected outcome. Thrown, not returned.
 * Examples: truncating a committed entry, a commit index past the last index, two leaders in one term,
 * `advance` called with a Ready that no longer matches the log.
 */
export class RaftInvariantError extends Error {
  readonly _tag = "RaftInvariantError" as const
  constructor(message: string) {
    super(message)
    this.name = "RaftInvariantError"
  }
}

/** Throws `RaftInvariantError` unless `cond` holds. `message` is a thunk so the happy path builds no string. */
export function invariant(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new RaftInvariantError(message())
}
