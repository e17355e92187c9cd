/**
 * Message handling of followers and candidates (etcd `stepFollower` / `stepCandidate`). Term checks and vote
 * requests were already handled by `Raft.step`; every message here is from the current term (or term-less).
 */
import type { Message } from "../protocol/eraftpb.js"
import { proposalDropped, type StepError } from "./errors.js"
import { voteResult } from "./quorum.js"
import type { Raft } from "./raft.js"
import { None } from "./util.js"

export const stepFollower = (r: Raft, m: Message): StepError | undefined => {
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
    case "MsgTransferLeader":
      // Forward to the leader unchanged (its `from` names the transferee); dropped if we know no leader.
      if (r.lead !== None) r.msgs.push({ ...m, to: r.lead })
      return undefined
    case "MsgTimeoutNow":
      // The leader hands over to us: campaign now, without waiting for the election timeout (thesis §3.10).
      // `campaign` ignores it if we are not a member (TestTransferNonMember3A).
      r.campaign()
      return undefined
    default:
      // MsgBeat, responses: nothing for a follower to do.
      return undefined
  }
}

export const stepCandidate = (r: Raft, m: Message): StepError | undefined => {
  switch (m.msgType) {
    case "MsgPropose":
      return proposalDropped
    case "MsgAppend":
    case "MsgHeartbeat":
    case "MsgSnapshot":
      // §5.2: a leader of our term exists; concede, then handle the message as a follower.
      r.becomeFollower(r.term, m.from)
      return stepFollower(r, m)
    case "MsgRequestVoteResponse": {
      if (!r.prs.has(m.from)) return undefined
      r.votes.set(m.from, !m.reject)
      const result = voteResult(r.prs.keys(), r.votes)
      if (result === "Won") {
        r.becomeLeader()
        r.bcastAppend()
      } else if (result === "Lost") {
        // A majority rejected us: step down rather than wait for the timeout (TinyKV pitfall §6.5 item 3).
        r.becomeFollower(r.term, None)
      }
      return undefined
    }
    default:
      // MsgBeat, MsgTransferLeader (no leader to forward to), MsgTimeoutNow, other responses.
      return undefined
  }
}
