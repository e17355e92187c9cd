/**
 * Message handling of followers and candidates (etcd `stepFollower` / `stepCandidate`). Term checks and vote
 * requests were already handled by `Raft.step`; every message here is from the current term (or term-less).
 */
import type { Message } from "../protocol/eraftpb.js"
import { startElection } from "./election.js"
import { proposalDropped, type StepError } from "./errors.js"
import { voteResult } from "./quorum.js"
import type { RaftNode } from "./node.js"
import { followerReadIndex, followerReadIndexResp } from "./readIndex.js"
import { None } from "./util.js"

export const stepFollower = (r: RaftNode, m: Message): StepError | undefined => {
  switch (m.msgType) {
    case "MsgPropose":
      // TinyKV does not forward proposals: the proposer learns it must find the leader.
      return proposalDropped
    case "MsgAppend":
      r.electionElapsed = 0
      r.lead = m.from
      r.handleAppendEntries(m)
      return undefined
    case "MsgHeartbeat":
      r.electionElapsed = 0
      r.lead = m.from
      r.handleHeartbeat(m)
      return undefined
    case "MsgSnapshot":
      r.electionElapsed = 0
      r.lead = m.from
      r.handleSnapshot(m)
      return undefined
    case "MsgReadIndex":
      return followerReadIndex(r, m)
    case "MsgReadIndexResp":
      followerReadIndexResp(r, m)
      return undefined
    case "MsgTransferLeader":
      // Forward to the leader unchanged (its `from` names the transferee); dropped if we know no leader.
      if (r.lead !== None) r.msgs.push({ ...m, to: r.lead })
      return undefined
    case "MsgTimeoutNow":
      // The leader hands over to us: campaign now, without waiting for the election timeout (thesis §3.10), and
      // skip the pre-vote: voters must grant this election although they still hear from the old leader.
      // `campaign` ignores it if we are not a member (TestTransferNonMember3A).
      r.campaign(true)
      return undefined
    default:
      // MsgBeat, responses: nothing for a follower to do.
      return undefined
  }
}

/** Candidates and pre-candidates (etcd `stepCandidate`): count the answers to our own kind of vote request. */
export const stepCandidate = (r: RaftNode, m: Message): StepError | undefined => {
  const ourResponse = r.state === "PreCandidate" ? "MsgPreVoteResponse" : "MsgRequestVoteResponse"
  switch (m.msgType) {
    case "MsgPropose":
    case "MsgReadIndex":
      // no leader to serve or forward to
      return proposalDropped
    case "MsgAppend":
    case "MsgHeartbeat":
    case "MsgSnapshot":
      // §5.2: a leader of our term exists; concede, then handle the message as a follower.
      r.becomeFollower(r.term, m.from)
      return stepFollower(r, m)
    case ourResponse: {
      if (!r.prs.has(m.from)) return undefined
      r.votes.set(m.from, !m.reject)
      const result = voteResult(r.prs.keys(), r.votes)
      if (result === "Won") {
        if (r.state === "PreCandidate") {
          startElection(r, false)
        } else {
          r.becomeLeader()
          r.bcastAppend()
        }
      } else if (result === "Lost") {
        // A majority rejected us: step down rather than wait for the timeout.
        r.becomeFollower(r.term, None)
      }
      return undefined
    }
    default:
      // MsgBeat, MsgTransferLeader (no leader to forward to), MsgTimeoutNow, the other kind of vote response.
      return undefined
  }
}
