/**
 * ReadIndex (Raft thesis §6.4; etcd `raft.go`'s MsgReadIndex handling with `ReadOnlySafe`): how a linearizable
 * read learns an index to be served at without appending anything to the log.
 *
 * The leader records its commit index when the request arrives, broadcasts a heartbeat carrying the request's
 * context, and once a quorum (itself included) has answered a heartbeat with that context it knows it was still
 * the leader after the request arrived: no other leader can have committed anything it lacks. The read may then
 * be served by any state machine that has applied the recorded index; the requester gets a `ReadState`.
 *
 * A new leader may not know the latest commit index until it commits an entry of its own term (thesis §6.4,
 * step 1), so it queues requests until then. Requests a node holds when it changes role are dropped (the
 * application notices its leader stepped down and answers its readers itself). A follower forwards requests to
 * its leader and turns the answer into a `ReadState`.
 */
import type { Message } from "../protocol/eraftpb.js"
import { proposalDropped, type StepError } from "./errors.js"
import type { RaftNode } from "./node.js"
import { voteResult } from "./quorum.js"
import { None } from "./util.js"

/** The leader's commit index is known to be current: it has committed an entry of its own term. */
export const committedInCurrentTerm = (r: RaftNode): boolean => r.raftLog.term(r.raftLog.committed) === r.term

/** A leader takes a MsgReadIndex (its own, term-less, or one a follower forwarded). */
export const leaderReadIndex = (r: RaftNode, m: Message): void => {
  const ctx = m.context
  if (ctx === undefined) return
  if (!committedInCurrentTerm(r)) {
    r.pendingReadIndex.push(m)
    return
  }
  const index = r.raftLog.committed
  const selfOnly = new Map([[r.id, true]])
  if (voteResult(r.prs.keys(), selfOnly) === "Won") {
    // a group of one: nobody else could lead, the commit index is the read index
    answer(r, m.from, ctx, index)
    return
  }
  const read = r.readOnly.add(index, m.from, ctx)
  read.acks.set(r.id, true)
  r.bcastHeartbeat(ctx)
}

/** A heartbeat answer that echoes a read's context: with a quorum, that read and every earlier one are served. */
export const leaderHeartbeatAck = (r: RaftNode, m: Message): void => {
  const ctx = m.context
  if (ctx === undefined) return
  const acks = r.readOnly.ack(m.from, ctx)
  if (acks === undefined || voteResult(r.prs.keys(), acks) !== "Won") return
  for (const read of r.readOnly.advance(ctx)) answer(r, read.from, read.ctx, read.index)
}

/** The leader's first commit of its term makes its commit index current: the reads it queued go on. */
export const releasePendingReads = (r: RaftNode): void => {
  if (r.pendingReadIndex.length === 0 || !committedInCurrentTerm(r)) return
  const waiting = r.pendingReadIndex
  r.pendingReadIndex = []
  for (const m of waiting) leaderReadIndex(r, m)
}

const answer = (r: RaftNode, from: number, ctx: Uint8Array, index: number): void => {
  if (from === r.id || from === None) r.readStates.push({ index, requestCtx: ctx })
  else r.send({ msgType: "MsgReadIndexResp", to: from, index, context: ctx })
}

/** A follower forwards a read to its leader unchanged (term-less); without a leader it is refused. */
export const followerReadIndex = (r: RaftNode, m: Message): StepError | undefined => {
  if (r.lead === None) return proposalDropped
  r.msgs.push({ ...m, to: r.lead })
  return undefined
}

/** The leader's answer to a read this follower forwarded. */
export const followerReadIndexResp = (r: RaftNode, m: Message): void => {
  if (m.context !== undefined) r.readStates.push({ index: m.index, requestCtx: m.context })
}
