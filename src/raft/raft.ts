/**
 * `Raft`: the state machine of one node (`RaftCore`) with the role step functions plugged in. The role
 * functions take a `RaftCore`, so they and the core do not import each other.
 */
import type { Message } from "../protocol/eraftpb.js"
import type { StepError } from "./errors.js"
import { RaftCore } from "./raftCore.js"
import { stepCandidate, stepFollower } from "./stepFollower.js"
import { stepLeader } from "./stepLeader.js"

export { MAX_APPEND_BYTES, type SoftState } from "./raftCore.js"

export class Raft extends RaftCore {
  protected stepRole(m: Message): StepError | undefined {
    switch (this.state) {
      case "Leader":
        return stepLeader(this, m)
      case "Candidate":
        return stepCandidate(this, m)
      case "Follower":
        return stepFollower(this, m)
    }
  }
}
