/**
 * Message handling of a leader (etcd `stepLeader`). Term checks and vote requests were already handled by
 * `Raft.step`; every message here is from the current term (or term-less).
 */
import type { Message } from "../protocol/eraftpb.js"
import { invariant, proposalDropped, type StepError } from "./errors.js"
import type { RaftNode } from "./node.js"
import { leaderHeartbeatAck, leaderReadIndex } from "./readIndex.js"
import { None } from "./util.js"

export const stepLeader = (r: RaftNode, m: Message): StepError | undefined => {
  switch (m.msgType) {
    case "MsgBeat":
      r.bcastHeartbeat()
      return undefined
    case "MsgPropose":
      return propose(r, m)
    case "MsgAppendResponse":
      markActive(r, m.from)
      handleAppendResponse(r, m)
      return undefined
    case "MsgHeartbeatResponse": {
      // The follower is alive; if it lacks entries (lost appends, or it just reconnected), send them now
      // (TestCommitWithHeartbeat2AB).
      markActive(r, m.from)
      const pr = r.prs.get(m.from)
      if (pr !== undefined && pr.match < r.raftLog.lastIndex()) r.sendAppend(m.from)
      leaderHeartbeatAck(r, m)
      return undefined
    }
    case "MsgReadIndex":
      leaderReadIndex(r, m)
      return undefined
    case "MsgTransferLeader":
      handleTransferLeader(r, m.from)
      return undefined
    case "MsgAppend":
    case "MsgHeartbeat":
    case "MsgSnapshot":
      // Only a leader sends these; another leader in our own term would break Election Safety (§5.2).
      // (A term-0 message is a hand-crafted local one; ignore it.)
      invariant(m.term === 0, () => `leader ${r.id} of term ${r.term} got ${m.msgType} from ${m.from}, same term`)
      return undefined
    default:
      // MsgRequestVoteResponse (already leader), MsgTimeoutNow (we are the leader): nothing to do.
      return undefined
  }
}

/** A follower answered this term's leader: it counts toward CheckQuorum's next check. */
const markActive = (r: RaftNode, from: number): void => {
  const pr = r.prs.get(from)
  if (pr !== undefined) pr.recentActive = true
}

/** TinyKV MsgPropose on the leader: append, then replicate. */
const propose = (r: RaftNode, m: Message): StepError | undefined => {
  // No new entries while handing leadership over (thesis §3.10), nor from a leader that was removed.
  if (r.leadTransferee !== None || !r.prs.has(r.id)) return proposalDropped
  if (m.entries.length === 0) return undefined
  let confChanges = 0
  for (const e of m.entries) if (e.entryType === "EntryConfChange") confChanges++
  // One configuration change at a time (thesis §4.1): refuse another until the previous one is applied.
  if (confChanges > 1 || (confChanges === 1 && r.pendingConfIndex > r.raftLog.applied)) return proposalDropped
  const first = r.raftLog.lastIndex() + 1
  r.appendEntries(m.entries)
  if (confChanges === 1) r.pendingConfIndex = first + m.entries.findIndex((e) => e.entryType === "EntryConfChange")
  r.maybeCommit() // only a single-node group can commit here
  r.bcastAppend()
  return undefined
}

/**
 * Whether the commit index just moved past the leader's latest conf change. That commit goes to every follower at
 * once even under `Config.lazyCommit`: a leader that removed itself sends nothing more, and the others must not
 * wait for an election to learn of their new membership.
 */
const committedConfChange = (r: RaftNode, before: number): boolean =>
  before < r.pendingConfIndex && r.pendingConfIndex <= r.raftLog.committed

/**
 * A follower's answer to MsgAppend/MsgSnapshot. A rejection moves `next` back (using the follower's hint, never
 * below `match + 1`) and probes again; an acceptance raises `match`, may commit (then everyone learns the new
 * commit index: at once, or with the next append or heartbeat under `Config.lazyCommit`), and may complete a
 * pending leadership transfer.
 */
const handleAppendResponse = (r: RaftNode, m: Message): void => {
  const pr = r.prs.get(m.from)
  if (pr === undefined) return
  const log = r.raftLog
  if (m.reject) {
    // The follower's last index with a term <= the probed term is m.index (term m.logTerm). Our own entries above
    // the last index whose term is <= m.logTerm cannot match it either, so skip them too.
    const probe = m.logTerm > 0 ? log.findConflictByTerm(m.index, m.logTerm, pr.match) : m.index
    pr.next = Math.max(pr.match + 1, Math.min(pr.next - 1, probe + 1))
    r.sendAppend(m.from)
    return
  }
  if (m.index > pr.match) {
    invariant(m.index <= log.lastIndex(), () => `${m.from} acked ${m.index} beyond leader's last ${log.lastIndex()}`)
    pr.match = m.index
    pr.next = Math.max(pr.next, m.index + 1)
    const before = log.committed
    if (r.maybeCommit() && (!r.lazyCommit || committedConfChange(r, before))) r.bcastAppend()
    else if (pr.next <= log.lastIndex()) r.sendAppend(m.from)
  }
  if (m.from === r.leadTransferee && pr.match === log.lastIndex()) {
    r.send({ msgType: "MsgTimeoutNow", to: m.from })
  }
}

/**
 * Leadership transfer (thesis §3.10; TinyKV 3A). `transferee` is the message's `from`. Transferring to ourselves
 * cancels a pending transfer; an unknown node is ignored; a new target replaces the pending one. Once the target
 * is up to date it gets MsgTimeoutNow and campaigns at once.
 */
const handleTransferLeader = (r: RaftNode, transferee: number): void => {
  if (transferee === r.id) {
    r.leadTransferee = None
    return
  }
  const pr = r.prs.get(transferee)
  if (pr === undefined || r.leadTransferee === transferee) return
  r.leadTransferee = transferee
  r.transferStarted = true
  r.electionElapsed = 0 // the transfer must finish within one election timeout (see Raft.tick)
  if (pr.match === r.raftLog.lastIndex()) r.send({ msgType: "MsgTimeoutNow", to: transferee })
  else r.sendAppend(transferee)
}
