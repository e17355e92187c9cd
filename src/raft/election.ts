/**
 * Elections (Raft paper §5.2, §5.4.1; thesis §9.6 for PreVote): starting a campaign, answering vote requests,
 * and the leader lease that CheckQuorum gives followers.
 *
 * With `preVote`, a node whose election timer fires first polls the group with MsgPreVote at the term it would
 * use, changing nothing; only if a quorum would vote for it does it bump its term and campaign. A node that was
 * partitioned away therefore comes back at its old term and cannot depose a leader that kept working.
 */
import type { Message } from "../protocol/eraftpb.js"
import { voteResult } from "./quorum.js"
import type { RaftNode } from "./node.js"
import { newMessage, None } from "./util.js"

/**
 * Starts an election — a pre-vote poll first with `preVote`, unless a leadership transfer asked for it — unless
 * this node is not a member or still has committed configuration changes to apply: its member list would be
 * stale, and campaigning with a stale list could let two leaders win one term (etcd `hup`).
 */
export const campaign = (r: RaftNode, transfer: boolean): void => {
  if (!r.prs.has(r.id) || r.hasUnappliedConfChanges()) return
  if (r.preVote && !transfer) {
    r.becomePreCandidate()
    // a group of one needs no poll
    if (voteResult(r.prs.keys(), r.votes) === "Won") startElection(r, false)
    else requestVotes(r, "MsgPreVote", r.term + 1, false)
    return
  }
  startElection(r, transfer)
}

/** The real election: a new term, our own vote, and MsgRequestVote to every other member. */
export const startElection = (r: RaftNode, transfer: boolean): void => {
  r.becomeCandidate()
  if (voteResult(r.prs.keys(), r.votes) === "Won") {
    r.becomeLeader()
    return
  }
  requestVotes(r, "MsgRequestVote", r.term, transfer)
}

const requestVotes = (r: RaftNode, msgType: "MsgPreVote" | "MsgRequestVote", term: number, transfer: boolean): void => {
  const index = r.raftLog.lastIndex()
  const logTerm = r.raftLog.lastTerm()
  for (const to of r.prs.keys()) {
    if (to === r.id) continue
    // a pre-vote carries the term it would campaign at, which is not ours yet: stamp it by hand
    r.msgs.push(newMessage({ msgType, to, index, logTerm, ...(transfer ? { transfer } : {}) }, r.id, term))
  }
}

/**
 * CheckQuorum's lease: while this node has heard from a leader within an election timeout, it ignores vote
 * requests of higher terms (unless a leadership transfer started them), so a node that cannot hear the leader
 * cannot depose it (etcd `inLease`). With `quietAfterStart`, a node that just started does too, for its first
 * election timeout.
 */
export const ignoresVoteRequest = (r: RaftNode, m: Message): boolean =>
  r.checkQuorum &&
  m.transfer !== true &&
  (r.lead !== None || r.quietAfterStart) &&
  r.electionElapsed < r.electionTimeout

/**
 * Answers MsgRequestVote and MsgPreVote. A vote is granted at most once per term, first come first served, and
 * only to a candidate whose log is at least as up-to-date as ours; a leader or candidate of this term has voted
 * for itself and so rejects. A pre-vote for a later term is granted whenever the log check passes and changes
 * nothing here; its grant carries the asked-for term, so the poller counts it.
 */
export const handleVoteRequest = (r: RaftNode, m: Message): void => {
  const pre = m.msgType === "MsgPreVote"
  const canVote = pre
    ? r.vote === m.from || (r.vote === None && r.lead === None) || m.term > r.term
    : r.vote === None || r.vote === m.from
  const grant = canVote && r.raftLog.isUpToDate(m.index, m.logTerm)
  if (pre) {
    const msgType = "MsgPreVoteResponse"
    if (grant) r.msgs.push(newMessage({ msgType, to: m.from }, r.id, m.term))
    else r.send({ msgType, to: m.from, reject: true })
    return
  }
  if (grant) {
    r.vote = m.from
    r.electionElapsed = 0
  }
  r.send({ msgType: "MsgRequestVoteResponse", to: m.from, reject: !grant })
}

/** A quorum of members answered since the last check (CheckQuorum); the leader counts itself. */
export const quorumActive = (r: RaftNode): boolean => {
  const votes = new Map<number, boolean>()
  for (const [id, pr] of r.prs) votes.set(id, id === r.id || pr.recentActive)
  return voteResult(r.prs.keys(), votes) === "Won"
}
