/**
 * `Ready`: everything a node needs the application to do, handed out by `RawNode.ready()` and acknowledged with
 * `RawNode.advance(rd)` (TinyKV `raft/rawnode.go`, etcd `doc.go`).
 *
 * ## The Ready contract
 *
 * Loop: `if (node.hasReady()) { const rd = node.ready(); …; node.advance(rd) }`, and for each Ready, in order:
 *
 * 1. **Persist** — atomically if you can, and durably (fsync when `rd.mustSync`):
 *    - `rd.snapshot` (if set): install it in the log storage (it replaces the whole log) and in the state machine;
 *    - `rd.entries`: append them, deleting any stored entry at or after `rd.entries[0].index` (a truncated
 *      conflicting suffix must not survive);
 *    - `rd.hardState` (if set): save term, vote and commit.
 * 2. **Send** `rd.messages`, only after step 1: a vote or an append acknowledgement promises the data is durable
 *    (Raft paper §5, "respond to RPCs only after updating stable storage"). Messages may be dropped or reordered;
 *    Raft copes. One exception: a leader's MsgAppend and MsgHeartbeat promise nothing about its own disk and may
 *    go before step 1 (Raft thesis §10.2.1), provided no acknowledgement of them is stepped before step 1 is
 *    done (the leader counts its own log as matched at once, so an early step could commit an entry that is
 *    durable on too few nodes).
 * 3. **Apply** `rd.committedEntries` to the state machine, in order. For an `EntryConfChange` entry, decode it
 *    (`decodeConfChange`) and call `node.applyConfChange(cc)`, which returns the new `ConfState` to store with the
 *    region metadata. Record the applied index durably together with the applied data (restart passes it as
 *    `Config.applied`).
 * 4. **Advance**: `node.advance(rd)`. Between `ready()` and `advance(rd)` call nothing on the node except
 *    `applyConfChange` for the entries being applied: no step, tick or propose. The Ready describes the node at the
 *    moment it was built (`advance` throws `RaftInvariantError` if the log moved under it). Messages that
 *    `applyConfChange` produces (a leader whose quorum shrank may commit more) come in the next Ready.
 *
 * Crash anywhere in this sequence is fine as long as step 1 finished before step 2 started: on restart, pass the
 * durable applied index as `Config.applied`, and the node hands out the committed entries after it again.
 *
 * `rd.softState` (leader/role) changes need not be persisted; they tell the application who leads.
 *
 * `rd.readStates` are linearizable reads the leader confirmed (`RawNode.readIndex`); nothing to persist. Serve each
 * once the state machine has applied its `index`.
 */
import type { Entry, HardState, Message, Snapshot } from "../protocol/eraftpb.js"
import type { SoftState } from "./raft.js"
import type { ReadState } from "./readOnly.js"

export interface Ready {
  /** The node's role and known leader, when changed since the last advanced Ready. */
  readonly softState?: SoftState
  /** Term/vote/commit to persist BEFORE sending `messages`, when changed since the last advanced Ready. */
  readonly hardState?: HardState
  /** New log entries to persist BEFORE sending `messages` (may overwrite a stored suffix). */
  readonly entries: ReadonlyArray<Entry>
  /** A snapshot from the leader to install BEFORE sending `messages`, if one arrived. */
  readonly snapshot?: Snapshot
  /** Entries committed by the group, to apply in order AFTER persisting. */
  readonly committedEntries: ReadonlyArray<Entry>
  /** Messages to send AFTER persisting. */
  readonly messages: ReadonlyArray<Message>
  /**
   * Reads confirmed by the leader (`RawNode.readIndex`): each may be served once the application has applied
   * `index` — in this Ready's `committedEntries` or later ones.
   */
  readonly readStates: ReadonlyArray<ReadState>
  /** Whether the writes of this Ready must be synced to disk (new entries, a new term or a new vote). */
  readonly mustSync: boolean
}
