/**
 * A broken raftstore invariant is a defect: it throws `RaftInvariantError`, which stops the region's peer
 * (the RaftWorker's per-peer guard, `RoundContext.guard`) while the store's other regions go on.
 */
import { RaftInvariantError } from "../raft/index.js"

export function invariant(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new RaftInvariantError(message())
}
