/** A broken raftstore invariant is a defect: it throws `RaftInvariantError`, which kills the store's worker. */
import { RaftInvariantError } from "../raft/index.js"

export function invariant(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new RaftInvariantError(message())
}
