/** A node's own consistency checks; the safety suite runs them after every step. Cheap. */
import { invariant } from "./errors.js"
import type { RaftNode } from "./node.js"

/** Throws `RaftInvariantError` if the node's state is inconsistent. */
export const checkNodeInvariants = (r: RaftNode): void => {
  r.raftLog.checkInvariants()
  const last = r.raftLog.lastIndex()
  if (r.state === "Leader") {
    invariant(r.lead === r.id, () => `leader ${r.id} thinks the leader is ${r.lead}`)
    invariant(r.vote === r.id, () => `leader ${r.id} voted for ${r.vote} in its own term`)
    for (const [id, pr] of r.prs) {
      invariant(
        pr.match <= last && pr.next <= last + 1 && pr.next >= pr.match + 1,
        () => `progress of ${id}: match ${pr.match} next ${pr.next} last ${last}`
      )
    }
  }
  if (r.state === "Candidate") {
    invariant(r.vote === r.id, () => `candidate ${r.id} voted for ${r.vote}`)
  }
}
