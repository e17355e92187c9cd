/**
 * A peer: one replica of one region on this store — its Raft node, its storage, the proposals waiting
 * for their entries to apply, and a cache of the other peers' addresses (TinyKV `peer.go` and the
 * proposing half of `peer_msg_handler.go`).
 *
 * A Peer is plain synchronous state owned by the RaftWorker fiber; nothing else touches it, so it
 * needs no locking. Replies are queued in `replies` and completed by the worker after the round's
 * write, never before a write they depend on is durable.
 */
import type { Clock, Deferred } from "effect"
import type { ConfChange, Message } from "../protocol/eraftpb.js"
import { EpochNotMatch, NotLeader, RegionNotFound, StoreNotMatch } from "../protocol/errorpb.js"
import type { PeerId, RegionId, StoreId } from "../protocol/ids.js"
import type { Peer as PeerMeta, Region } from "../protocol/metapb.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { isRaftFailure, mulberry32, RawNode } from "../raft/index.js"
import { RaftCmdCodec } from "./codec.js"
import { recordProposal } from "./metrics.js"
import { commandProposed } from "./tracing.js"
import type { ReadPath } from "./config.js"
import { PeerHibernation } from "./peerHibernation.js"
import type { PeerStorage } from "./peerStorage.js"
import { ReadLease } from "./readLease.js"
import { ReadQueue } from "./readQueue.js"
import { checkRequestInRegion, checkRegionEpoch, checkSplit, isInitialMsg } from "./regionUtil.js"
import { adminResponse, errorResponse, okResponse, staleResponse } from "./responses.js"
import type { UnsafeTestOnly } from "./config.js"

export interface Proposal {
  readonly index: number
  readonly term: number
  /** Absent for the store's own proposals (log compaction), which nobody waits on. */
  readonly reply: Deferred.Deferred<RaftCmdResponse> | undefined
}

export type Reply = [Deferred.Deferred<RaftCmdResponse>, RaftCmdResponse]

export interface PeerConfig {
  readonly electionTicks: number
  readonly heartbeatTicks: number
  readonly preVote: boolean
  readonly checkQuorum: boolean
  /** Raft `Config.lazyCommit` (default off). */
  readonly lazyCommit?: boolean
  /** Raft `Config.quietAfterStart` (default off). */
  readonly quietAfterStart?: boolean
  /** How long a quorum's confirmation lets the leader answer reads alone (`readLease.ts`); default 0n: never. */
  readonly leaseNanos?: bigint
  /** The monotonic clock leases are timed by (required for a lease). */
  readonly clock?: Clock.Clock | undefined
  /** Seeds the peer's election jitter (deterministic simulation passes a fixed seed per run). */
  readonly seed: number
  /** How `Snap`-only commands are served (default `"readIndex"`). */
  readonly readPath?: ReadPath
  /** TEST ONLY: deliberate bugs for the simulator's self-test (`StoreConfig.unsafeTestOnly`). */
  readonly unsafeTestOnly?: UnsafeTestOnly | undefined
}

/** A command that only reads: served through ReadIndex rather than the log (`readQueue.ts`). */
export const isReadOnly = (request: RaftCmdRequest): boolean =>
  request.adminRequest === undefined && request.requests.length > 0 && request.requests.every((r) => r._tag === "Snap")

export class Peer {
  readonly rawNode: RawNode
  proposals: Array<Proposal> = []
  /** Normal commands taken this round, not proposed yet (`flushProposals`). */
  private batched: Array<{ readonly data: Uint8Array; readonly reply: Deferred.Deferred<RaftCmdResponse> }> = []
  /** Reads waiting on ReadIndex (leader only; answered by `readIndexServe.ts`). */
  readonly reads = new ReadQueue()
  /** The leader's read lease (`readLease.ts`). */
  readonly lease: ReadLease
  private readonly clock: Clock.Clock | undefined
  readonly readPath: ReadPath
  /** Replies decided outside apply (errors, transfer-leader acks); completed by the worker. */
  replies: Array<Reply> = []
  private readonly peerCache = new Map<number, PeerMeta>()
  /** Set once the peer is destroyed: it takes no more messages. */
  stopped = false
  /** Ticks since the last raft-log GC check / scheduler heartbeat. */
  ticksSinceGc = 0
  /** GC ticks since the replicated entries below the threshold were last compacted (`raftLogReserveMaxTicks`). */
  gcTicksSkipped = 0
  ticksSinceHeartbeat = 0
  /** What the last report to the scheduler said (`heartbeatFingerprint`), and the ticks since it was sent. */
  lastHeartbeat: string | undefined
  ticksSinceHeartbeatSent = 0
  /**
   * The index up to which this peer last proposed a log compaction: the GC tick proposes again only once that
   * has moved on, so a leader cut off in a minority does not append one per tick. Forgotten when the peer
   * becomes leader: a compaction proposed in an earlier term may have been lost with it, and a quiet region
   * would otherwise never propose it again (nor hibernate, with its entries still to compact).
   */
  compactProposedAt = 0
  /** The region's size as last measured (`undefined`: not yet, or not since a split changed it). */
  approximateSize: number | undefined
  approximateKeys: number | undefined
  /** Bytes written by applied commands since the last split check was decided (TinyKV `SizeDiffHint`). */
  sizeDiffHint = 0
  ticksSinceSplitCheck = 0
  /** A split check of this region runs in the background: no second one until it reports. */
  splitCheckInFlight = false
  /** The last check wanted this region split and the split was not applied: checked again at the next chance. */
  splitPending = false
  /**
   * Made by a split: checked at the leader's first tick rather than a split check interval later. A batch split
   * cuts off at most `MAX_SPLIT_KEYS` pieces and leaves the rest in the new right half, which may be far past
   * the max size still.
   */
  splitCheckSoon = false
  /**
   * The right half of this region's last split, as this peer made it: a command still addressed to the
   * old epoch learns both halves from its EpochNotMatch (TiKV adds the new regions the same way).
   */
  splitSibling: Region | undefined
  /** TEST ONLY: deliberate bugs switched on (absent in every real store). */
  readonly unsafeTestOnly: UnsafeTestOnly | undefined
  /** Whether the region is quiet here and since when (`hibernate.ts`). */
  readonly hibernation = new PeerHibernation()

  constructor(
    readonly storeId: StoreId,
    readonly meta: PeerMeta,
    readonly storage: PeerStorage,
    config: PeerConfig
  ) {
    this.rawNode = new RawNode({
      id: meta.id,
      electionTick: config.electionTicks,
      heartbeatTick: config.heartbeatTicks,
      preVote: config.preVote,
      checkQuorum: config.checkQuorum,
      lazyCommit: config.lazyCommit ?? false,
      quietAfterStart: config.quietAfterStart ?? false,
      storage,
      applied: storage.appliedIndex,
      rng: mulberry32(config.seed)
    })
    for (const p of storage.region.peers) this.peerCache.set(p.id, p)
    this.readPath = config.readPath ?? "readIndex"
    this.unsafeTestOnly = config.unsafeTestOnly
    this.clock = config.clock
    this.lease = new ReadLease(config.clock === undefined ? 0n : (config.leaseNanos ?? 0n))
  }

  /** The monotonic clock's now, in nanoseconds (0n without a clock: then there is no lease either). */
  now(): bigint {
    return this.clock === undefined ? 0n : this.clock.unsafeCurrentTimeNanos()
  }

  /**
   * When this leader's read lease ends, if a read taken now may be served under it: leader of the lease's term,
   * no leadership transfer started in it, and its commit index current (an entry of its term committed, so a
   * read at the commit index waits for everything earlier leaders committed). See `readLease.ts`.
   */
  leaseUntil(): bigint | undefined {
    const r = this.rawNode.raft
    if (this.lease.durationNanos <= 0n || r.state !== "Leader" || r.transferStarted) return undefined
    if (r.raftLog.term(r.raftLog.committed) !== r.term) return undefined
    return this.lease.validUntil(r.term, this.now())
  }

  get regionId(): RegionId {
    return this.storage.region.id
  }

  get region(): Region {
    return this.storage.region
  }

  get isLeader(): boolean {
    return this.rawNode.raft.state === "Leader"
  }

  get term(): number {
    return this.rawNode.raft.term
  }

  get leaderId(): number {
    return this.rawNode.raft.lead
  }

  /** The leader's peer record if known (for NotLeader hints). */
  leader(): PeerMeta | undefined {
    return this.peerCache.get(this.leaderId)
  }

  insertPeerCache(p: PeerMeta): void {
    this.peerCache.set(p.id, p)
  }

  removePeerCache(id: number): void {
    this.peerCache.delete(id)
  }

  // --- proposing ---

  /** TinyKV `preProposeRaftCommand` + `proposeRaftCommand`. */
  propose(request: RaftCmdRequest, reply: Deferred.Deferred<RaftCmdResponse>): void {
    const immediate = this.proposeOrAnswer(request, reply)
    if (immediate !== undefined) this.replies.push([reply, immediate])
  }

  /** Proposes `request`, or returns the answer it gets at once: an error, or a TransferLeader ack. */
  private proposeOrAnswer(
    request: RaftCmdRequest,
    reply: Deferred.Deferred<RaftCmdResponse>
  ): RaftCmdResponse | undefined {
    const fail = (e: Parameters<typeof errorResponse>[0]) => errorResponse(e, this.term)
    const header = request.header
    if (header.peer.storeId !== this.storeId) {
      return fail(new StoreNotMatch({ requestStoreId: header.peer.storeId, actualStoreId: this.storeId }))
    }
    if (!this.isLeader) return this.notLeader()
    if (header.peer.id !== this.meta.id) return fail(new RegionNotFound({ regionId: this.regionId }))
    if (header.term !== 0 && this.term > header.term + 1) return staleResponse(this.term)
    const epochError = checkRegionEpoch(request, this.region)
    if (epochError) return fail(this.withSibling(epochError))

    if (this.unsafeTestOnly?.leaderReadsLocally === true && isLocalRead(request)) {
      // TEST ONLY, wrong on purpose: a deposed leader that has not heard of its successor answers stale data
      return okResponse(
        request.requests.map(() => ({ _tag: "Snap", region: this.region }) as const),
        this.term
      )
    }
    if (this.readPath === "readIndex" && isReadOnly(request)) {
      // not through the log: under the lease, served at the commit index once applied; otherwise asked for
      // with the round's other reads, answered once confirmed and applied
      const leaseUntil = this.leaseUntil()
      if (leaseUntil !== undefined) {
        this.reads.addLeased({ request, reply, leaseUntil }, this.term, this.rawNode.raft.raftLog.committed)
      } else this.reads.add({ request, reply })
      commandProposed(reply)
      return undefined
    }

    const admin = request.adminRequest
    // the commands taken before an admin command go first: into the log, or refused by a transfer it starts
    if (admin !== undefined) this.flushProposals()
    if (admin?._tag === "TransferLeader") {
      // not through the log (TinyKV): the leader starts the transfer and acks; the caller watches the result
      if (this.region.peers.some((p) => p.id === admin.peer.id)) this.rawNode.transferLeader(admin.peer.id)
      return adminResponse({ _tag: "TransferLeader" }, this.term)
    }
    if (admin?._tag === "ChangePeer") {
      // one membership change at a time: a second would be dropped by the core anyway
      if (this.rawNode.raft.pendingConfIndex > this.rawNode.raft.raftLog.applied) {
        return fail(new NotLeader({ regionId: this.regionId, leader: this.meta }))
      }
      if (admin.changeType === "RemoveNode" && admin.peer.id === this.meta.id) return this.handOverBeforeRemoval()
      const cc: ConfChange = {
        changeType: admin.changeType,
        nodeId: admin.peer.id,
        context: RaftCmdCodec.encode(request)
      }
      this.proposeWith(reply, () => this.rawNode.proposeConfChange(cc))
      return undefined
    }
    if (admin?._tag === "Split") {
      // checked again when it applies, where the region may have changed meanwhile
      const refusal = checkSplit(request, admin, this.region)
      if (refusal !== undefined) return fail(refusal)
    }
    for (const r of request.requests) {
      if (r._tag === "Snap") continue
      const e = checkRequestInRegion(r, this.region)
      if (e) return fail(e)
    }
    // NB: proposed with the round's other commands by `flushProposals`, one batch of entries
    this.batched.push({ data: RaftCmdCodec.encode(request), reply })
    return undefined
  }

  /**
   * Proposes the commands batched since the last flush, in their order, as one batch of entries: the round
   * calls it before gathering the peer's Ready, and every other proposal calls it first, so the log keeps
   * the order the commands came in. One batch is one append and one message per follower, where a proposal
   * per command sent each follower a message per command and had it answer each (docs/PERFORMANCE.md,
   * "Proposals batched per round").
   */
  flushProposals(): void {
    const batch = this.batched
    if (batch.length === 0) return
    const first = this.rawNode.raft.raftLog.lastIndex() + 1
    const term = this.term
    const r = this.rawNode.proposeAll(batch.map((b) => b.data))
    // NB: emptied only now: a step that throws leaves them for `failAllProposals`
    this.batched = []
    if (isRaftFailure(r)) {
      // dropped: a leader transfer is in progress, or leadership was lost during the round
      const refused = this.notLeader()
      for (const b of batch) this.replies.push([b.reply, refused])
      return
    }
    for (let i = 0; i < batch.length; i++) this.track(first + i, term, batch[i]!.reply)
  }

  /** The answer to a proposal the core dropped: not (or no longer) a leader that takes proposals. */
  private notLeader(): RaftCmdResponse {
    const leader = this.leader()
    return errorResponse(new NotLeader({ regionId: this.regionId, ...(leader ? { leader } : {}) }), this.term)
  }

  /** A proposal in the log at `index`: its reply waits for that entry to apply. */
  private track(index: number, term: number, reply: Deferred.Deferred<RaftCmdResponse> | undefined): void {
    recordProposal(this.meta.storeId)
    commandProposed(reply)
    this.proposals.push({ index, term, reply })
  }

  /**
   * The leader is asked to remove itself: refused, and leadership handed to the most up-to-date other
   * member; the scheduler re-sends the step to the new leader, which removes this peer as a follower.
   *
   * Why not remove the leader directly: once it applies its own removal it is destroyed, and if the message
   * carrying the commit of that entry is lost, the other members never apply it. In a 2-peer region the
   * survivor then waits forever for the removed peer's vote. A follower being removed has no such duty.
   */
  private handOverBeforeRemoval(): RaftCmdResponse {
    let best: { id: number; match: number } | undefined
    for (const [id, pr] of this.rawNode.getProgress()) {
      if (id !== this.meta.id && (best === undefined || pr.match > best.match)) best = { id, match: pr.match }
    }
    const target = best === undefined ? undefined : this.peerCache.get(best.id)
    if (target !== undefined) this.rawNode.transferLeader(target.id)
    // the last member cannot be removed at all: it stays leader, and the answer says so
    return errorResponse(
      new NotLeader({ regionId: this.regionId, ...(target !== undefined ? { leader: target } : {}) }),
      this.term
    )
  }

  /** Proposes the store's own command (no reply): log compaction. Dropped silently when not leader. */
  proposeInternal(request: RaftCmdRequest): void {
    if (!this.isLeader) return
    const data = RaftCmdCodec.encode(request)
    this.proposeWith(undefined, () => this.rawNode.propose(data))
  }

  private proposeWith(reply: Deferred.Deferred<RaftCmdResponse> | undefined, propose: () => unknown): void {
    // the commands batched before this one go into the log before it
    this.flushProposals()
    const index = this.rawNode.raft.raftLog.lastIndex() + 1
    const term = this.term
    const r = propose()
    if (isRaftFailure(r)) {
      // dropped: a leader transfer is in progress, or another conf change is pending
      if (reply !== undefined) this.replies.push([reply, this.notLeader()])
      return
    }
    this.track(index, term, reply)
  }

  /**
   * A leader's snapshot replaced the log up to `index`: learn the region's members (an uninitialized peer
   * knew only the sender) and answer the proposals it covers — their entries will never apply here.
   */
  snapshotApplied(index: number, replies: Array<Reply>): void {
    for (const p of this.region.peers) this.peerCache.set(p.id, p)
    while (this.proposals.length > 0 && this.proposals[0]!.index <= index) {
      const p = this.proposals.shift()!
      // the snapshot's entry at p.index may be this command (replicated before the leader changed) or another
      if (p.reply) replies.push([p.reply, staleResponse(this.term, true)])
    }
  }

  /**
   * Whether a split check is due: the region was never measured here, was written to enough since (TinyKV: an
   * eighth of the split size), or its last wanted split was not applied. A leader with one due stays awake.
   */
  splitCheckDue(regionSplitSize: number): boolean {
    return this.approximateSize === undefined || this.splitPending || this.sizeDiffHint >= regionSplitSize / 8
  }

  /** The parent of a split applied its half: remember the sibling, and measure the region afresh. */
  splitApplied(right: Region): void {
    this.splitSibling = right
    this.approximateSize = undefined
    this.approximateKeys = undefined
    this.sizeDiffHint = 0
    this.splitPending = false
  }

  /** `e`, with the sibling of this region's last split added when the request predates that split. */
  withSibling(e: EpochNotMatch): EpochNotMatch {
    const sibling = this.splitSibling
    if (sibling === undefined || e.currentRegions.some((r) => r.id === sibling.id)) return e
    return new EpochNotMatch({ currentRegions: [...e.currentRegions, sibling] })
  }

  /**
   * Answers every waiting proposal and read with RegionNotFound (the peer is being destroyed). Each
   * proposal is in the log already, and may apply on the other replicas: its answer says its outcome is
   * unknown. A read never changes anything, so its answer needs no such mark.
   */
  failAllProposals(): void {
    const gone = errorResponse(new RegionNotFound({ regionId: this.regionId }), this.term)
    for (const p of this.proposals) {
      if (p.reply)
        this.replies.push([
          p.reply,
          errorResponse(new RegionNotFound({ regionId: this.regionId, outcomeUnknown: true }), this.term)
        ])
    }
    this.proposals = []
    // never proposed, unless the step that was proposing them broke the peer: unknown too
    for (const b of this.batched) {
      this.replies.push([
        b.reply,
        errorResponse(new RegionNotFound({ regionId: this.regionId, outcomeUnknown: true }), this.term)
      ])
    }
    this.batched = []
    for (const r of this.reads.takeAll()) this.replies.push([r.reply, gone])
  }

  // --- messages out ---

  /** Wraps the core's messages for the network; a message to a peer we know nothing about is dropped. */
  toRaftMessages(messages: ReadonlyArray<Message>, out: Array<RaftMessage>): void {
    const region = this.region
    for (const m of messages) {
      const to = this.peerCache.get(m.to)
      if (to === undefined) continue
      const initial = region.peers.length > 0 && isInitialMsg(m)
      out.push({
        regionId: region.id,
        fromPeer: this.meta,
        toPeer: to,
        message: m,
        regionEpoch: region.regionEpoch,
        isTombstone: false,
        ...(initial ? { startKey: region.startKey, endKey: region.endKey } : {})
      })
    }
  }

  /** Peers the leader knows to be far behind (their match is below the truncated index). */
  pendingPeers(): Array<PeerMeta> {
    const out: Array<PeerMeta> = []
    for (const [id, pr] of this.rawNode.getProgress()) {
      const p = this.peerCache.get(id)
      if (p !== undefined && pr.match < this.storage.truncatedIndex) out.push(p)
    }
    return out
  }

  /** The peer's id as a branded value. */
  get id(): PeerId {
    return this.meta.id
  }
}

/** A command of `Snap`s only (what the TEST ONLY local read answers without the log). */
const isLocalRead = (request: RaftCmdRequest): boolean =>
  request.adminRequest === undefined && request.requests.length > 0 && request.requests.every((r) => r._tag === "Snap")
