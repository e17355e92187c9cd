/**
 * The term rules every role shares (Raft paper §5.1), applied once before a message reaches its role's
 * handler: a higher term makes us a follower (except for pre-votes, and vote requests CheckQuorum's lease
 * ignores), a lower one is answered with our term or dropped. Returns whether the message goes on.
 */
import type { Message } from "../protocol/eraftpb.js"
import { ignoresVoteRequest } from "./election.js"
import type { RaftNode } from "./node.js"
import { isTermlessMsg, None } from "./util.js"

export const admitTerm = (r: RaftNode, m: Message): boolean => {
  if (m.term === 0 || isTermlessMsg(m.msgType)) return true
  const isVoteRequest = m.msgType === "MsgRequestVote" || m.msgType === "MsgPreVote"
  if (m.term > r.term) {
    // CheckQuorum's lease: a node that hears from its leader does not help depose it.
    if (isVoteRequest && ignoresVoteRequest(r, m)) return false
    // A pre-vote (or its grant) carries a term nobody has campaigned at yet: it must not move ours.
    const future = m.msgType === "MsgPreVote" || (m.msgType === "MsgPreVoteResponse" && !m.reject)
    if (!future) {
      // §5.1: a higher term always wins. Only messages that only a leader sends tell us who leads.
      const fromLeader = m.msgType === "MsgAppend" || m.msgType === "MsgHeartbeat" || m.msgType === "MsgSnapshot"
      r.becomeFollower(m.term, fromLeader ? m.from : None)
    }
  } else if (m.term < r.term) {
    // A stale sender. Answer with our term so a deposed leader or an old candidate steps down
    // (TestDisruptiveFollower2AA); otherwise ignore the message. The append reply acknowledges index 0, which a
    // leader ignores (the sender may by now lead our term: a rejection would make it back off for nothing).
    if (m.msgType === "MsgAppend") r.send({ msgType: "MsgAppendResponse", to: m.from })
    else if (m.msgType === "MsgHeartbeat") r.send({ msgType: "MsgHeartbeatResponse", to: m.from })
    else if (m.msgType === "MsgRequestVote") r.send({ msgType: "MsgRequestVoteResponse", to: m.from, reject: true })
    else if (m.msgType === "MsgPreVote") r.send({ msgType: "MsgPreVoteResponse", to: m.from, reject: true })
    return false
  }
  return true
}
