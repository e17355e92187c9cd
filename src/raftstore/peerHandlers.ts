/**
 * What the RaftWorker does with one peer's mail (TiKV `PeerFsmDelegate`, TinyKV `peer_msg_handler.go`):
 * step a Raft message, tick, propose a command. Plain synchronous functions over the peer and the
 * round's `RoundContext`; nothing here writes, sends or replies — the round does, after its write.
 * The round runs each of them under `RoundContext.guard`, so a broken Raft invariant stops this peer only.
 */
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { RegionEpoch } from "../protocol/metapb.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import type { Deferred } from "effect"
import type { PeerMsg } from "../services/Router.js"
import { SnapshotDataCodec } from "./codec.js"
import { MIN_ENTRIES_TO_COMPACT, type StoreConfig } from "./config.js"
import { heartbeatDue } from "./heartbeatThrottle.js"
import type { Peer } from "./peer.js"
import { expireReads } from "./readIndexServe.js"
import type { RegionRanges } from "./regionRanges.js"
import { findPeer, isEpochStale } from "./regionUtil.js"
import type { RoundContext } from "./roundContext.js"

/** TinyKV `onRaftMsg` + `checkMessage`. `ranges` are the store's live peers' ranges (the snapshot overlap check). */
export const onRaftMessage = (ctx: RoundContext, ranges: RegionRanges<Peer>, peer: Peer, m: RaftMessage): void => {
  if (m.toPeer.storeId !== peer.storeId) return
  if (m.isTombstone) {
    // the sender says we were removed; believe it only if its epoch is newer than ours
    if (m.toPeer.id === peer.meta.id && isEpochStale(peer.region.regionEpoch, m.regionEpoch)) ctx.toDestroy.add(peer)
    return
  }
  if (m.toPeer.id !== peer.meta.id) {
    // a newer peer of this region lives here now: this one is stale
    if (m.toPeer.id > peer.meta.id) {
      ctx.toDestroy.add(peer)
      ctx.reroute.push(m)
    }
    return
  }
  if (isEpochStale(m.regionEpoch, peer.region.regionEpoch) && findPeer(peer.region, m.fromPeer.storeId) === undefined) {
    // from a peer that was removed from this region. One still campaigning, or still leading, missed its
    // own removal (it was cut off when it was removed): tell it, so it erases itself (TinyKV
    // `handleStaleMsg`)
    if (isRemovedPeerAlive(m.message.msgType)) ctx.outbound.push(tombstoneNotice(m, peer.region.regionEpoch))
    return
  }
  const snap = m.message.snapshot
  if (snap !== undefined && m.message.msgType === "MsgSnapshot") {
    const snapRegion = SnapshotDataCodec.decode(snap.data).region
    // a snapshot of a membership this peer is not part of (TinyKV `checkSnapshot`)
    if (!snapRegion.peers.some((p) => p.id === peer.meta.id)) return
    // a snapshot whose region overlaps another region of this store would corrupt it
    if (ranges.overlapping(snapRegion, peer) !== undefined) return
  }
  peer.insertPeerCache(m.fromPeer)
  ctx.hibernation?.beforeStep(peer, m.message)
  peer.rawNode.step(m.message)
  ctx.hibernation?.afterStep(peer, m.message)
}

/**
 * Messages only a candidate or a leader sends: from a peer removed from the region, they mean it missed its
 * removal and will go on forever — a deposed leader cut off when it was removed never campaigns, so votes
 * alone (TinyKV's rule) would not reach it. Responses are not answered: an uninitialized new peer (epoch
 * 0) answers a leader, and a member that has not applied its addition yet must not tell it to go away.
 */
export const isRemovedPeerAlive = (t: RaftMessage["message"]["msgType"]): boolean =>
  t === "MsgRequestVote" || t === "MsgPreVote" || t === "MsgHeartbeat" || t === "MsgAppend" || t === "MsgSnapshot"

/** The answer to a message from a removed peer: "you are gone", with the epoch that removed it. */
export const tombstoneNotice = (m: RaftMessage, epoch: RegionEpoch): RaftMessage => ({
  regionId: m.regionId,
  fromPeer: m.toPeer,
  toPeer: m.fromPeer,
  message: { ...m.message, msgType: "MsgHeartbeat", entries: [], term: 0 },
  regionEpoch: epoch,
  isTombstone: true
})

/** One Raft tick, and the leader's periodic duties: propose a log compaction, report to the scheduler. */
export const onTick = (ctx: RoundContext, config: StoreConfig, peer: Peer): void => {
  peer.rawNode.tick()
  // a read its reader has given up on (commandTimeoutMs) is answered and forgotten
  if (peer.reads.size > 0) expireReads(peer, Math.max(1, Math.ceil(config.commandTimeoutMs / config.baseTickMs)))
  if (!peer.isLeader) return
  leaderDuties(ctx, config, peer)
  ctx.hibernation?.afterLeaderTick(peer)
}

/** The last index every member of the leader's region holds (TiKV's `replicated_idx`). */
const minMatch = (peer: Peer): number => {
  const r = peer.rawNode.raft
  let min = r.raftLog.lastIndex()
  for (const [id, pr] of r.prs) if (id !== r.id && pr.match < min) min = pr.match
  return min
}

/**
 * Where a GC tick compacts the entries every member holds (0: not now), TiKV's rules: past the threshold; else
 * after `raftLogReserveMaxTicks` GC ticks, or at once when every member holds the whole log — never for fewer
 * than `MIN_ENTRIES_TO_COMPACT` entries.
 */
const replicatedToCompact = (config: StoreConfig, peer: Peer, first: number, replicated: number): number => {
  const last = peer.rawNode.raft.raftLog.lastIndex()
  if (replicated < first || last - first < MIN_ENTRIES_TO_COMPACT) return 0
  const due =
    replicated - first + 1 >= config.raftLogGcThreshold ||
    replicated === last ||
    ++peer.gcTicksSkipped >= config.raftLogReserveMaxTicks
  if (!due) return 0
  peer.gcTicksSkipped = 0
  return replicated
}

/** The periodic duties of a leader's tick: log compaction, split checks, reports to the scheduler. */
const leaderDuties = (ctx: RoundContext, config: StoreConfig, peer: Peer): void => {
  if (++peer.ticksSinceGc >= config.raftLogGcTicks) {
    peer.ticksSinceGc = 0
    const applied = peer.storage.appliedIndex
    const first = peer.storage.firstIndex()
    // by count or by bytes, whichever comes first (the bytes counted only when the count does not decide): up to
    // the applied index, however far a member lags; else, past the threshold, up to what every member holds
    const forced =
      applied - first + 1 >= config.raftLogGcCountLimit ||
      peer.rawNode.raft.raftLog.dataBytes(first, applied + 1) >= config.raftLogGcSizeLimit
    const replicated = Math.min(applied, minMatch(peer))
    const compactTo = forced ? applied : replicatedToCompact(config, peer, first, replicated)
    if (compactTo > peer.compactProposedAt) {
      const term = peer.storage.term(compactTo)
      if (typeof term === "number") {
        peer.compactProposedAt = compactTo
        peer.proposeInternal({
          header: { regionId: peer.regionId, peer: peer.meta, regionEpoch: peer.region.regionEpoch, term: 0 },
          requests: [],
          adminRequest: { _tag: "CompactLog", compactIndex: compactTo, compactTerm: term }
        })
      }
    }
  }
  if (++peer.ticksSinceSplitCheck >= config.splitCheckTicks || peer.splitCheckSoon) {
    peer.ticksSinceSplitCheck = 0
    if (peer.splitCheckDue(config.regionSplitSize) && !peer.splitCheckInFlight) {
      peer.splitCheckInFlight = true
      peer.splitCheckSoon = false
      peer.sizeDiffHint = 0
      ctx.splitChecks.push(peer)
    }
  }
  peer.ticksSinceHeartbeatSent++
  if (++peer.ticksSinceHeartbeat >= config.regionHeartbeatTicks) {
    peer.ticksSinceHeartbeat = 0
    if (heartbeatDue(peer, config)) ctx.heartbeats.push(peer)
  }
}

/**
 * A client command: proposed, or answered at once through `peer.replies` (see `Peer.propose`). It wakes a
 * hibernating region first: a proposal, a read or an operator step needs the leader ticking again.
 */
export const onCommand = (
  ctx: RoundContext,
  peer: Peer,
  request: RaftCmdRequest,
  reply: Deferred.Deferred<RaftCmdResponse>
): void => {
  ctx.hibernation?.wake(peer, "command")
  peer.propose(request, reply)
}

/** A background split check ended: the region's size, unless it was measured before a split changed it. */
export const onSplitCheckResult = (peer: Peer, msg: Extract<PeerMsg, { _tag: "SplitCheckResult" }>): void => {
  peer.splitCheckInFlight = false
  if (msg.version !== peer.region.regionEpoch.version) return
  peer.splitPending = msg.splitPending
  if (msg.size === undefined) return
  peer.approximateSize = msg.size
  peer.approximateKeys = msg.keys
}
