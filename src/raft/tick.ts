/**
 * A node's logical clock (TinyKV `tick`): a leader counts towards its next heartbeat and its CheckQuorum window, any
 * other role towards its next election. A tick is the only way time reaches the core: the raftstore feeds one per
 * `baseTickMs`, at most one waiting at a time.
 */
import { quorumActive } from "./election.js"
import type { RaftNode } from "./node.js"
import { newMessage, None } from "./util.js"

export const tickNode = (r: RaftNode): void => {
  if (r.state === "Leader") {
    r.heartbeatElapsed++
    r.electionElapsed++
    if (r.electionElapsed >= r.electionTimeout) {
      r.electionElapsed = 0
      // A transfer that has not completed within an election timeout is abandoned (thesis §3.10),
      // so the group does not stay unable to accept proposals.
      r.leadTransferee = None
      if (r.checkQuorum) {
        // A leader that a quorum has not answered for a whole election timeout is probably cut off: step down so
        // its clients look elsewhere instead of waiting on a leader that cannot commit.
        if (!quorumActive(r)) {
          r.becomeFollower(r.term, None)
          return
        }
        for (const [id, pr] of r.prs) if (id !== r.id) pr.recentActive = false
      }
    }
    if (r.heartbeatElapsed >= r.heartbeatTimeout) {
      r.heartbeatElapsed = 0
      r.step(newMessage({ msgType: "MsgBeat", from: r.id, to: r.id }))
    }
    return
  }
  r.electionElapsed++
  // the first election timeout since start is over (a pre-candidate keeps its role, and so would keep the flag
  // through its every poll: a region whose members all restarted together would refuse each other for good)
  if (r.electionElapsed >= r.electionTimeout) r.quietAfterStart = false
  // NB: only a member may campaign (etcd `promotable`). A node outside its own configuration (a peer
  // created by a message, still waiting for its snapshot) keeps counting instead of starting over: if
  // it reset here, CheckQuorum's lease (`ignoresVoteRequest`) would never run out when its drawn
  // timeout equals the election timeout, and it would ignore every vote request forever — a region
  // whose other members need its vote then never elects a leader
  if (r.electionElapsed >= r.randomizedElectionTimeout && r.prs.has(r.id)) {
    r.electionElapsed = 0
    r.step(newMessage({ msgType: "MsgHup", from: r.id, to: r.id }))
  }
}
