/**
 * The Raft state machine of one node (TinyKV `raft/raft.go`, shaped after etcd `raft.go`).
 *
 * Pure and synchronous: inputs are `step(message)` and `tick()`; outputs are the messages queued in `msgs` and the
 * changes to `raftLog`, which `RawNode` turns into a `Ready`. No IO, no clock, no global randomness.
 *
 * `step` applies the rules every role shares (term comparison and step-down, vote granting; Raft paper §5.1, §5.2,
 * §5.4.1) once, then hands the message to the role's step function (`stepLeader.ts`, `stepFollower.ts`).
 *
 * Fields are public and mutable because TinyKV's paper tests set up scenarios through them (`r.term = 2`,
 * `r.state = "Leader"`, `r.raftLog.committed = 3`, `r.prs.get(2)!.next = 10`). Applications go through `RawNode`.
 */
import type { Entry, HardState, Message } from "../protocol/eraftpb.js"
import type { Config } from "./config.js"
import { validateConfig } from "./config.js"
import { invariant, isRaftFailure, RaftInvariantError, type StepError } from "./errors.js"
import type { RaftNode } from "./node.js"
import { campaign, handleVoteRequest } from "./election.js"
import { Progress } from "./progress.js"
import { committedIndex } from "./quorum.js"
import { RaftLog } from "./raftLog.js"
import { releasePendingReads } from "./readIndex.js"
import { ReadOnly, type ReadState } from "./readOnly.js"
import { mulberry32, type Rng, randomInt } from "./rng.js"
import { checkNodeInvariants } from "./nodeInvariants.js"
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from "./receive.js"
import { admitTerm } from "./termRules.js"
import { sendAppend } from "./replicate.js"
import { stepCandidate, stepFollower } from "./stepFollower.js"
import { stepLeader } from "./stepLeader.js"
import { tickNode } from "./tick.js"
import { EMPTY_DATA, type MessageInit, newMessage, None, type StateType } from "./util.js"

export interface SoftState {
  readonly lead: number
  readonly raftState: StateType
}

export class Raft implements RaftNode {
  readonly id: number
  /** Current term (persisted in HardState). */
  term = 0
  /** Whom this node voted for in `term`, or `None` (persisted in HardState). */
  vote = None
  state: StateType = "Follower"
  /** The leader of `term` as far as this node knows, or `None`. */
  lead = None
  raftLog: RaftLog
  /**
   * Members of the group as of the last applied configuration change (or snapshot). On the leader, each
   * follower's replication progress; the leader's own entry tracks its last index.
   */
  prs = new Map<number, Progress>()
  /** Votes received in the current election (candidate only); `true` = granted. */
  votes = new Map<number, boolean>()
  /** Outbound messages, drained by `readMessages` (tests) or by `RawNode.ready/advance`. */
  msgs: Message[] = []
  readonly heartbeatTimeout: number
  readonly electionTimeout: number
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0
  /**
   * Ticks since the last reset: since hearing from a valid leader or granting a vote (follower), since the election
   * started (candidate), or since the transfer window opened (leader).
   */
  electionElapsed = 0
  /** Drawn from `[electionTimeout, 2 * electionTimeout)` on every reset (Raft paper §5.2). */
  randomizedElectionTimeout: number
  /**
   * Target of an ongoing leadership transfer (Raft thesis §3.10), or `None`. While set, proposals are dropped;
   * it is cleared when the transfer completes, is replaced, or times out after an election timeout.
   */
  leadTransferee = None
  /**
   * Whether this leader started a leadership transfer in its term. The target of a transfer campaigns at once
   * and is voted for although the voters heard from their leader lately (`ignoresVoteRequest`), so once a
   * transfer has started (even if it is abandoned: its MsgTimeoutNow may still arrive) the leader can no longer
   * count on its followers' election timeouts: the raftstore's read lease ends for the rest of the term.
   */
  transferStarted = false
  /** See `Config.quietAfterStart`; cleared after an election timeout of ticks, or on the first role change. */
  quietAfterStart = false
  /**
   * Index of the latest configuration-change entry the leader has appended. A new conf change is only accepted
   * once this one has been applied (`pendingConfIndex <= raftLog.applied`), so at most one is in flight.
   */
  pendingConfIndex = 0
  /** See `Config.preVote`. */
  readonly preVote: boolean
  /** See `Config.checkQuorum`. */
  readonly checkQuorum: boolean
  /** See `Config.lazyCommit`. */
  readonly lazyCommit: boolean
  /** The leader's ReadIndex requests waiting for a quorum of heartbeat answers (`readIndex.ts`). */
  readOnly = new ReadOnly()
  /** MsgReadIndex held by a leader that has not committed an entry of its term yet. */
  pendingReadIndex: Message[] = []
  /** Confirmed reads for the application (`RawNode.ready().readStates`). */
  readStates: ReadState[] = []
  /**
   * What the leader's heartbeats carry when no read is waiting (`undefined`: nothing). The raftstore sets it to
   * mark the heartbeats of a leader asking its followers to hibernate (`src/raftstore/hibernate.ts`); cleared on
   * every role change.
   */
  idleContext: Uint8Array | undefined = undefined
  private readonly rng: Rng

  /** TinyKV `newRaft`. Throws `RaftInvariantError` for an invalid config or inconsistent storage. */
  constructor(c: Config) {
    const problem = validateConfig(c)
    if (problem !== undefined) throw new RaftInvariantError(`invalid raft config: ${problem}`)
    this.id = c.id
    this.rng = c.rng ?? mulberry32(c.id)
    this.electionTimeout = c.electionTick
    this.heartbeatTimeout = c.heartbeatTick
    this.preVote = c.preVote ?? false
    this.checkQuorum = c.checkQuorum ?? false
    this.lazyCommit = c.lazyCommit ?? false
    this.randomizedElectionTimeout = c.electionTick
    const { hardState, confState } = c.storage.initialState()
    this.raftLog = new RaftLog(c.storage)
    const log = this.raftLog
    const peers = c.peers !== undefined && c.peers.length > 0 ? c.peers : confState.nodes
    for (const id of peers) this.prs.set(id, new Progress(0, log.lastIndex() + 1))
    this.term = hardState.term
    this.vote = hardState.vote
    if (hardState.commit > 0) {
      invariant(
        hardState.commit >= log.firstIndex() - 1 && hardState.commit <= log.lastIndex(),
        () => `hard state commit ${hardState.commit} is out of range [${log.firstIndex() - 1}, ${log.lastIndex()}]`
      )
      log.committed = hardState.commit
    }
    const applied = c.applied ?? 0
    if (applied > 0) {
      invariant(
        applied <= log.committed && applied >= log.firstIndex() - 1,
        () => `config applied ${applied} is out of range [${log.firstIndex() - 1}, ${log.committed}]`
      )
      log.applied = applied
    }
    this.becomeFollower(this.term, None)
    this.quietAfterStart = (c.quietAfterStart ?? false) && this.checkQuorum
  }

  // --- Outputs -----------------------------------------------------------------------------------------------

  /** Queues a message from this node at the current term. */
  send(init: MessageInit): void {
    this.msgs.push(newMessage(init, this.id, this.term))
  }

  /** Drains the outbound queue (TinyKV tests' `readMessages`). */
  readMessages(): Message[] {
    const msgs = this.msgs
    this.msgs = []
    return msgs
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state }
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed }
  }

  /** Member ids, sorted (TinyKV `nodes(r)`). */
  nodes(): number[] {
    return [...this.prs.keys()].sort((a, b) => a - b)
  }

  // --- Time --------------------------------------------------------------------------------------------------

  /** Advances the logical clock by one tick (TinyKV `tick`; `tick.ts`). */
  tick(): void {
    tickNode(this)
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = randomInt(this.rng, this.electionTimeout, 2 * this.electionTimeout)
  }

  // --- Role transitions --------------------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = None
    }
    this.lead = None
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetRandomizedElectionTimeout()
    this.leadTransferee = None
    this.transferStarted = false
    this.quietAfterStart = false
    this.votes = new Map()
    // reads taken in another role or term are dropped: their requesters learn it from the role change
    this.readOnly = new ReadOnly()
    this.pendingReadIndex = []
    this.idleContext = undefined
  }

  becomeFollower(term: number, lead: number): void {
    this.reset(term)
    this.state = "Follower"
    this.lead = lead
  }

  /** Polls for votes without changing the term or our vote (`Config.preVote`). */
  becomePreCandidate(): void {
    invariant(this.state !== "Leader", () => "invalid transition [leader -> pre-candidate]")
    this.state = "PreCandidate"
    this.lead = None
    this.votes = new Map([[this.id, true]])
  }

  becomeCandidate(): void {
    invariant(this.state !== "Leader", () => "invalid transition [leader -> candidate]")
    this.reset(this.term + 1)
    this.vote = this.id
    this.votes.set(this.id, true)
    this.state = "Candidate"
  }

  /**
   * Takes over as leader: every follower is probed from the end of our log, and exactly one empty entry of the new
   * term is appended (thesis §6.4: committing it commits everything before it). No heartbeat is sent here; the
   * caller broadcasts MsgAppend.
   */
  becomeLeader(): void {
    invariant(this.state !== "Follower", () => "invalid transition [follower -> leader]")
    this.reset(this.term)
    this.state = "Leader"
    this.lead = this.id
    const log = this.raftLog
    const last = log.lastIndex()
    for (const pr of this.prs.values()) {
      pr.match = 0
      pr.next = last + 1
      pr.recentActive = true
    }
    // A conf change appended by an earlier leader may still be unapplied; it counts as pending.
    this.pendingConfIndex = 0
    const unapplied = log.slice(log.applied + 1, last + 1)
    invariant(!isRaftFailure(unapplied), () => `unapplied entries after ${log.applied} are compacted`)
    for (const e of unapplied) if (e.entryType === "EntryConfChange") this.pendingConfIndex = e.index
    this.appendEntries([{ entryType: "EntryNormal", term: 0, index: 0, data: EMPTY_DATA }])
    this.maybeCommit() // a single-node group commits at once
  }

  // --- Step --------------------------------------------------------------------------------------------------

  /**
   * Processes one message (TinyKV `Step`). Returns `undefined`, or `ProposalDropped` for a proposal that was not
   * appended. Throws `RaftInvariantError` on a broken invariant.
   */
  step(m: Message): StepError | undefined {
    if (!admitTerm(this, m)) return undefined
    switch (m.msgType) {
      case "MsgHup":
        if (this.state !== "Leader") this.campaign()
        return undefined
      case "MsgRequestVote":
      case "MsgPreVote":
        handleVoteRequest(this, m)
        return undefined
      default:
        switch (this.state) {
          case "Leader":
            return stepLeader(this, m)
          case "PreCandidate":
          case "Candidate":
            return stepCandidate(this, m)
          case "Follower":
            return stepFollower(this, m)
        }
    }
  }

  /**
   * Starts an election now (election.ts): a pre-vote poll first with `preVote`, a real election at once when
   * `transfer` (a leadership transfer asked for it).
   */
  campaign(transfer = false): void {
    campaign(this, transfer)
  }

  /** Committed but unapplied conf changes: our member list may be stale, so we must not campaign. */
  hasUnappliedConfChanges(): boolean {
    const log = this.raftLog
    if (log.committed <= log.applied) return false
    const ents = log.nextEnts()
    for (const e of ents) if (e.entryType === "EntryConfChange") return true
    return false
  }

  /** Answers a vote request (election.ts). */
  handleRequestVote(m: Message): void {
    handleVoteRequest(this, m)
  }

  // --- Leader machinery --------------------------------------------------------------------------------------

  /** Leader-side append: stamps the entries with this term and consecutive indexes, and advances our own match. */
  appendEntries(ents: ReadonlyArray<Entry>): void {
    const log = this.raftLog
    let index = log.lastIndex()
    const stamped: Entry[] = []
    for (const e of ents) stamped.push({ entryType: e.entryType, term: this.term, index: ++index, data: e.data })
    log.append(stamped)
    const self = this.prs.get(this.id)
    if (self !== undefined) {
      self.match = Math.max(self.match, index)
      self.next = Math.max(self.next, index + 1)
    }
  }

  /**
   * Advances the commit index to the highest index stored on a majority, if that entry is from the current term
   * (§5.4.2: never commit an older term's entry by counting replicas). Returns whether it moved.
   */
  maybeCommit(): boolean {
    const matches: number[] = []
    for (const pr of this.prs.values()) matches.push(pr.match)
    const n = committedIndex(matches)
    const log = this.raftLog
    if (n > log.committed && log.term(n) === this.term) {
      log.commitTo(n)
      // the first commit of the term makes the commit index current: queued reads may go on
      releasePendingReads(this)
      return true
    }
    return false
  }

  /** Sends `to` its missing entries, or a snapshot (replicate.ts). Returns false if nothing could be sent. */
  sendAppend(to: number): boolean {
    return sendAppend(this, to)
  }

  /**
   * Heartbeat to `to`. Its commit is `min(match, committed)`: the follower may only commit what it is known to
   * hold (TestHeartbeatUpdateCommit2AB), and a peer with match 0 sees commit 0, which the raftstore uses to create
   * the peer (`IsInitialMsg`; a known TinyKV pitfall).
   */
  sendHeartbeat(to: number, context?: Uint8Array): void {
    const pr = this.prs.get(to)
    const commit = Math.min(pr?.match ?? 0, this.raftLog.committed)
    this.send(
      context === undefined ? { msgType: "MsgHeartbeat", to, commit } : { msgType: "MsgHeartbeat", to, commit, context }
    )
  }

  bcastAppend(): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendAppend(id)
  }

  /**
   * Heartbeat to every follower, carrying `context` (a read's, `readIndex.ts`) or else the newest waiting read's:
   * a read whose own heartbeats were lost is confirmed by the next periodic one. With no read waiting, it
   * carries `idleContext`.
   */
  bcastHeartbeat(context: Uint8Array | undefined = this.readOnly.lastContext() ?? this.idleContext): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendHeartbeat(id, context)
  }

  // --- Follower machinery (receive.ts) ---------------------------------------------------------------------

  handleAppendEntries(m: Message): void {
    handleAppendEntries(this, m)
  }

  handleHeartbeat(m: Message): void {
    handleHeartbeat(this, m)
  }

  handleSnapshot(m: Message): void {
    handleSnapshot(this, m)
  }

  // --- Membership (project 3A) -------------------------------------------------------------------------------

  /** Adds a member (idempotent). A new follower is probed from the end of the leader's log. */
  addNode(id: number): void {
    if (this.prs.has(id)) return
    this.prs.set(id, new Progress(0, this.raftLog.lastIndex() + 1))
  }

  /**
   * Removes a member (idempotent). The quorum shrinks, so a leader may now be able to commit more
   * (TestCommitAfterRemoveNode3A); a transfer to the removed node is abandoned.
   */
  removeNode(id: number): void {
    if (!this.prs.delete(id)) return
    this.votes.delete(id)
    if (this.leadTransferee === id) this.leadTransferee = None
    if (this.state === "Leader" && this.prs.size > 0 && this.maybeCommit()) this.bcastAppend()
  }

  // --- Checks ------------------------------------------------------------------------------------------------

  /** Throws `RaftInvariantError` if the node's state is inconsistent. Cheap; the safety suite calls it every step. */
  checkInvariants(): void {
    checkNodeInvariants(this)
  }
}
