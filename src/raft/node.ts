/**
 * What the role handlers (`stepLeader.ts`, `stepFollower.ts`, `election.ts`, `receive.ts`, `tick.ts`) may read and change
 * of a node. `Raft` implements it; it is declared apart so that those modules never import the class that
 * imports them (no import cycle, type-only ones included).
 */
import type { Entry, Message } from "../protocol/eraftpb.js"
import type { Progress } from "./progress.js"
import type { RaftLog } from "./raftLog.js"
import type { ReadOnly, ReadState } from "./readOnly.js"
import type { MessageInit, StateType } from "./util.js"

export interface RaftNode {
  readonly id: number
  term: number
  vote: number
  state: StateType
  lead: number
  readonly raftLog: RaftLog
  prs: Map<number, Progress>
  votes: Map<number, boolean>
  msgs: Message[]
  electionElapsed: number
  readonly electionTimeout: number
  /** Drawn from `[electionTimeout, 2 * electionTimeout)` on every reset. */
  readonly randomizedElectionTimeout: number
  heartbeatElapsed: number
  readonly heartbeatTimeout: number
  leadTransferee: number
  /** A leadership transfer started in this term (as leader); cleared on every role change. */
  transferStarted: boolean
  /** See `Config.quietAfterStart`: still in the first election timeout after start, no leader heard yet. */
  quietAfterStart: boolean
  pendingConfIndex: number
  readonly preVote: boolean
  readonly checkQuorum: boolean
  readonly lazyCommit: boolean
  /** The leader's ReadIndex requests waiting for a quorum (`readIndex.ts`); emptied on every role change. */
  readOnly: ReadOnly
  /** MsgReadIndex a new leader holds until it has committed an entry of its term; emptied on every role change. */
  pendingReadIndex: Message[]
  /** Reads confirmed for the application, handed out in the next Ready. */
  readStates: ReadState[]
  send(init: MessageInit): void
  step(m: Message): unknown
  becomeFollower(term: number, lead: number): void
  becomePreCandidate(): void
  becomeCandidate(): void
  becomeLeader(): void
  campaign(transfer?: boolean): void
  hasUnappliedConfChanges(): boolean
  appendEntries(ents: ReadonlyArray<Entry>): void
  maybeCommit(): boolean
  sendAppend(to: number): boolean
  bcastAppend(): void
  bcastHeartbeat(context?: Uint8Array): void
  handleAppendEntries(m: Message): void
  handleHeartbeat(m: Message): void
  handleSnapshot(m: Message): void
}
