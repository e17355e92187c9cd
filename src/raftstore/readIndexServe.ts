/**
 * Answering the reads a leader holds in its `ReadQueue` (`readQueue.ts`), in the round, after its Ready was
 * applied into the round's ops and before the write:
 *
 * - a read whose batch the Raft core confirmed (`ReadState`) is answered once the peer has applied the
 *   confirmed index — with the region as it is now (the epoch is checked again: a split or membership change
 *   may have applied since the read was taken) and the peer's term. Its engine snapshot is taken right after
 *   the round's write (`readSnapshot.ts`), so it holds everything up to the confirmed index and more, never
 *   less; and a peer whose own removal is in the same write has its reads refused (`refuseReads`);
 * - reads held by a peer that is no longer leader, or is leader of another term than the one they were asked
 *   in, are answered NotLeader: the core dropped them, and the reader retries where the leader is now;
 * - reads nobody confirmed within the command timeout are answered ServerIsBusy (`expireReads`, every tick):
 *   a leader cut off in a minority never gets its quorum, and never answers from its stale state;
 * - a confirmed batch renews the leader's read lease from the time it was asked (`readLease.ts`), and a read
 *   served under the lease is refused ServerIsBusy if the lease ran out before its snapshot was open
 *   (`refuseLapsedLeaseReads`, after the round's write).
 */
import type { Deferred } from "effect"
import { NotLeader, ServerIsBusy } from "../protocol/errorpb.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { ReadState } from "../raft/index.js"
import type { Peer, Reply } from "./peer.js"
import { checkRegionEpoch } from "./regionUtil.js"
import { errorResponse, okResponse } from "./responses.js"
import { commandApplied } from "./tracing.js"

/** Asks the core for one read index for every read the peer took since the last round (leader only). */
export const askForReads = (peer: Peer): void => {
  if (!peer.isLeader || !peer.reads.hasFresh) return
  // NB: the clock is read before the core sends the heartbeat: a lease timed from here is never too late
  peer.reads.askFor(peer.rawNode, peer.term, peer.now(), peer.lease.generation)
}

/** A read answered under the lease, and when that lease ends: checked again once its snapshot is open. */
export type LeasedReply = readonly [Deferred.Deferred<RaftCmdResponse>, bigint]

/**
 * Answers what the peer's reads now allow: `readStates` from its Ready, its applied index after the apply.
 * The replies of reads served under the lease are also noted in `leased`.
 */
export const serveReads = (
  peer: Peer,
  readStates: ReadonlyArray<ReadState>,
  replies: Array<Reply>,
  leased: Array<LeasedReply>
): void => {
  const queue = peer.reads
  if (queue.size === 0) return
  for (const c of queue.confirm(readStates)) {
    if (peer.isLeader && c.term === peer.term) peer.lease.renew(c.term, c.generation, c.askedAt)
  }
  if (!peer.isLeader || queue.hasOtherTerm(peer.term)) {
    const leader = peer.leader()
    const hint = leader !== undefined && leader.id !== peer.meta.id ? { leader } : {}
    const notLeader = errorResponse(new NotLeader({ regionId: peer.regionId, ...hint }), peer.term)
    for (const r of queue.takeAll()) replies.push([r.reply, notLeader])
    return
  }
  for (const r of queue.takeServable(peer.storage.appliedIndex)) {
    commandApplied(r.reply)
    replies.push([r.reply, answer(peer, r.request)])
    if (r.leaseUntil !== undefined) leased.push([r.reply, r.leaseUntil])
  }
}

/**
 * After the round's write and its read snapshots: every read served under a lease that has ended by `now` is
 * answered ServerIsBusy instead (the client retries). The worker may have stalled between taking the read and
 * opening its snapshot, and a newer leader may have committed meanwhile what that snapshot lacks.
 */
export const refuseLapsedLeaseReads = (
  replies: Array<Reply>,
  leased: ReadonlyArray<LeasedReply>,
  now: bigint
): void => {
  const lapsed = new Set<Deferred.Deferred<RaftCmdResponse>>()
  for (const [reply, until] of leased) if (now >= until) lapsed.add(reply)
  if (lapsed.size === 0) return
  for (let i = 0; i < replies.length; i++) {
    const [reply, response] = replies[i]!
    if (!lapsed.has(reply)) continue
    const busy = new ServerIsBusy({ reason: "the leader's read lease ran out while the read was served; retry" })
    replies[i] = [reply, errorResponse(busy, response.header.currentTerm)]
  }
}

const answer = (peer: Peer, request: RaftCmdRequest): RaftCmdResponse => {
  // (TEST ONLY: the simulator's `apply-skips-epoch` self-test switches this check off with apply's)
  const epochError =
    peer.unsafeTestOnly?.applySkipsEpochCheck === true ? undefined : checkRegionEpoch(request, peer.region)
  if (epochError) return errorResponse(peer.withSibling(epochError), peer.term)
  return okResponse(
    request.requests.map(() => ({ _tag: "Snap" as const, region: peer.region })),
    peer.term
  )
}

/** One tick: reads unconfirmed for `maxTicks` ticks are answered ServerIsBusy, through `peer.replies`. */
export const expireReads = (peer: Peer, maxTicks: number): void => {
  const expired = peer.reads.tick(maxTicks)
  if (expired.length === 0) return
  const busy = errorResponse(
    new ServerIsBusy({ reason: "a quorum did not confirm the read index in time; retry" }),
    peer.term
  )
  for (const r of expired) peer.replies.push([r.reply, busy])
}
