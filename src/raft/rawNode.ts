/**
 * `RawNode`: the application-facing wrapper around `Raft` (TinyKV `raft/rawnode.go`). Every call is a local
 * message stepped into the state machine; outputs are collected into a `Ready` (see `ready.ts` for the contract).
 * Not thread-safe by design: one owner drives it (the raftstore's region worker).
 */
import type { ConfChange, ConfState, HardState, Message } from "../protocol/eraftpb.js"
import type { Config } from "./config.js"
import { encodeConfChange } from "./confChange.js"
import { invariant, type StepError, stepLocalMsg, stepPeerNotFound } from "./errors.js"
import { Raft, type SoftState } from "./raft.js"
import type { Ready } from "./ready.js"
import { isHardStateEqual, isLocalMsg, isResponseMsg, newMessage, type StateType } from "./util.js"

/** A follower's replication state as the leader sees it (copy). */
export interface ProgressView {
  readonly match: number
  readonly next: number
}

/** A snapshot of the node's volatile and durable state, for status pages and the raftstore. */
export interface Status {
  readonly id: number
  readonly term: number
  readonly vote: number
  readonly commit: number
  readonly applied: number
  readonly lead: number
  readonly raftState: StateType
  readonly leadTransferee: number
  readonly pendingConfIndex: number
}

export class RawNode {
  readonly raft: Raft
  private prevSoftState: SoftState
  private prevHardState: HardState

  /** TinyKV `NewRawNode`. Throws `RaftInvariantError` for an invalid config or inconsistent storage. */
  constructor(config: Config) {
    this.raft = new Raft(config)
    // Start from the restored state so that a restart produces no HardState/SoftState in its first Ready
    // (TestRawNodeRestart2AC).
    this.prevSoftState = this.raft.softState()
    this.prevHardState = this.raft.hardState()
  }

  /** Advances the logical clock by one tick. */
  tick(): void {
    this.raft.tick()
  }

  /** Starts an election now (MsgHup). */
  campaign(): StepError | undefined {
    return this.raft.step(newMessage({ msgType: "MsgHup", from: this.raft.id, to: this.raft.id }))
  }

  /** Proposes `data` as a normal entry. `ProposalDropped` unless this node is a leader able to accept it. */
  propose(data: Uint8Array): StepError | undefined {
    return this.proposeAll([data])
  }

  /**
   * Proposes each of `data` as a normal entry, in order, in one step: one append and one round of
   * replication for all of them, where a proposal each would send every follower a message each.
   */
  proposeAll(data: ReadonlyArray<Uint8Array>): StepError | undefined {
    const id = this.raft.id
    return this.raft.step(
      newMessage({
        msgType: "MsgPropose",
        from: id,
        to: id,
        entries: data.map((d) => ({ entryType: "EntryNormal", term: 0, index: 0, data: d }))
      })
    )
  }

  /**
   * Proposes a configuration change (encoded with `encodeConfChange`). `ProposalDropped` also when another
   * conf change is still unapplied.
   */
  proposeConfChange(cc: ConfChange): StepError | undefined {
    const id = this.raft.id
    const data = encodeConfChange(cc)
    return this.raft.step(
      newMessage({
        msgType: "MsgPropose",
        from: id,
        to: id,
        entries: [{ entryType: "EntryConfChange", term: 0, index: 0, data }]
      })
    )
  }

  /**
   * Applies a committed configuration change to the member list and returns the resulting ConfState (sorted ids).
   * A change with node id 0 changes nothing. Adding a present node or removing an absent one is a no-op, so
   * duplicate proposals are harmless (TestRawNodeProposeAddDuplicateNode3A).
   */
  applyConfChange(cc: ConfChange): ConfState {
    if (cc.nodeId !== 0) {
      if (cc.changeType === "AddNode") this.raft.addNode(cc.nodeId)
      else this.raft.removeNode(cc.nodeId)
    }
    return { nodes: this.raft.nodes() }
  }

  /**
   * Steps a message received from the network. Local-only types (MsgHup, MsgBeat) are refused with
   * `StepLocalMsg`, responses from non-members with `StepPeerNotFound`.
   */
  step(m: Message): StepError | undefined {
    if (isLocalMsg(m.msgType)) return stepLocalMsg
    if (isResponseMsg(m.msgType) && !this.raft.prs.has(m.from)) return stepPeerNotFound
    return this.raft.step(m)
  }

  /**
   * Asks for a linearizable read (ReadIndex, `readIndex.ts`): once the leader has confirmed it still leads, a
   * `ReadState { index, requestCtx }` comes out in a Ready, and the read may be served as soon as `index` is
   * applied. `requestCtx` names the read; it must be unique among the reads in flight. A follower forwards the
   * request to its leader; without a known leader, or as a candidate, it is refused with `ProposalDropped`. A
   * request the node holds when it changes role is dropped without an answer.
   */
  readIndex(requestCtx: Uint8Array): StepError | undefined {
    const id = this.raft.id
    return this.raft.step(newMessage({ msgType: "MsgReadIndex", from: id, to: id, context: requestCtx }))
  }

  /** Asks the leader to hand leadership to `transferee` (forwarded to the leader if called on a follower). */
  transferLeader(transferee: number): void {
    this.raft.step(newMessage({ msgType: "MsgTransferLeader", from: transferee, to: this.raft.id }))
  }

  /** Whether `ready()` would return anything to do. */
  hasReady(): boolean {
    const r = this.raft
    const log = r.raftLog
    if (r.msgs.length > 0 || r.readStates.length > 0 || log.hasUnstableEntries() || log.hasNextEnts()) return true
    if (log.pendingSnapshot !== undefined) return true
    if (r.lead !== this.prevSoftState.lead || r.state !== this.prevSoftState.raftState) return true
    const hs = this.prevHardState
    return r.term !== hs.term || r.vote !== hs.vote || log.committed !== hs.commit
  }

  /** What the application must do next; see the contract in `ready.ts`. Does not change the node. */
  ready(): Ready {
    const r = this.raft
    const log = r.raftLog
    const entries = log.unstableEntries()
    const soft = r.softState()
    const hard = r.hardState()
    const hardChanged = !isHardStateEqual(hard, this.prevHardState)
    const rd: {
      -readonly [K in keyof Ready]: Ready[K]
    } = {
      entries,
      // Not in the same Ready as a snapshot (etcd's `nextCommittedEnts` holds them back too): the entries after
      // it come in the next Ready, once the snapshot is installed. An application that writes a snapshot's data
      // before its log (`layers/storageRaftLogged.ts`) could otherwise make their applies durable before the
      // entries themselves, and a crash between the two would leave data applied past its log.
      committedEntries: log.pendingSnapshot !== undefined ? [] : log.nextEnts(),
      messages: r.msgs.slice(),
      readStates: r.readStates.slice(),
      mustSync:
        entries.length > 0 ||
        log.pendingSnapshot !== undefined ||
        hard.term !== this.prevHardState.term ||
        hard.vote !== this.prevHardState.vote
    }
    if (soft.lead !== this.prevSoftState.lead || soft.raftState !== this.prevSoftState.raftState) rd.softState = soft
    if (hardChanged) rd.hardState = hard
    if (log.pendingSnapshot !== undefined) rd.snapshot = log.pendingSnapshot
    return rd
  }

  /** Acknowledges that `rd` was persisted, sent and applied (TinyKV `Advance`). */
  advance(rd: Ready): void {
    const r = this.raft
    const log = r.raftLog
    if (rd.softState !== undefined) this.prevSoftState = rd.softState
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState
    if (rd.snapshot !== undefined) {
      invariant(log.pendingSnapshot === rd.snapshot, () => "advance: the pending snapshot changed since ready()")
      log.pendingSnapshot = undefined
    }
    const lastEntry = rd.entries[rd.entries.length - 1]
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term)
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1]
    if (lastCommitted !== undefined) log.appliedTo(lastCommitted.index)
    const n = rd.messages.length
    invariant(
      n <= r.msgs.length && (n === 0 || r.msgs[n - 1] === rd.messages[n - 1]),
      () => "advance: the message queue changed since ready()"
    )
    r.msgs.splice(0, n)
    r.readStates.splice(0, rd.readStates.length)
    log.maybeCompact()
  }

  /** Replication progress of every member; empty unless this node is the leader. */
  getProgress(): Map<number, ProgressView> {
    const out = new Map<number, ProgressView>()
    if (this.raft.state !== "Leader") return out
    for (const [id, pr] of this.raft.prs) out.set(id, { match: pr.match, next: pr.next })
    return out
  }

  status(): Status {
    const r = this.raft
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      lead: r.lead,
      raftState: r.state,
      leadTransferee: r.leadTransferee,
      pendingConfIndex: r.pendingConfIndex
    }
  }
}
