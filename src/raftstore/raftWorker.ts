/**
 * The RaftWorker round (TiKV batch-system style, ARCHITECTURE.md "request flow"): take everything
 * pending, step every touched peer, gather the Ready of each, persist ALL raft state and ALL applied
 * data of the round in ONE engine write with at most ONE fsync (group commit), then complete the replies,
 * advance each peer, and send every outgoing message (the transport batches per destination store).
 *
 * Two exceptions keep the disk off the critical path of a replicated write (docs/PERFORMANCE.md):
 * - A leader's appends and heartbeats go out BEFORE the write (Raft thesis §10.2.1: the leader writes its
 *   log in parallel with replicating it). Safe here because rounds are sequential: a follower's
 *   acknowledgement is stepped in a later round, which starts after this round's write, so an entry is
 *   never counted committed before it is durable on the leader too. Everything else — a follower's
 *   acknowledgement, a vote — still waits for the write that makes it true.
 * - A write that only applies committed entries is not fsynced: those entries are durable in the log of
 *   a quorum already, and the applied index is written in the same transaction as the applied data, so a
 *   machine crash that loses the apply loses its applied index with it, and restart applies the entries
 *   again. A process crash (kill -9) loses nothing either way (LMDB's committed pages are in the OS page
 *   cache). Snapshots, splits, membership changes and removals still sync.
 * - For the same reason such a write, when nothing in the round waits for it, is not even made: it is held
 *   back (`deferredWrites.ts`) and rides with the round's next write, or the next tick's. Every commit takes
 *   its turn at the disk, synced or not, so a leader under sequential puts made two per put.
 * - For the same reason the answers to commands whose entries were durable here before this round (and
 *   committed, so durable on a quorum) go out BEFORE the write (`earlyReplies`): nothing the write adds
 *   makes them truer. The answer cannot be seen before its effect: every read of this store is served
 *   in a later round (which starts after this write) or from a snapshot taken after it, and a new
 *   leader applies the entry before it serves anything. Not early: reads (their snapshot follows the
 *   write), an entry appended in this same Ready (a one-member region commits it at once), and the
 *   applies that change the region (snapshots, splits, membership, removal).
 *
 * Why apply shares the write with persistence: TinyKV writes the raft batch and the kv batch separately
 * and orders them; one LMDB transaction makes "entries durable" and "applied index + data durable"
 * the same instant, so a crash can neither lose an acknowledged write nor apply an entry twice.
 *
 * With a raft log of its own (`Storage.logsRaft`, `tinykv server --raft-engine log`, the default) the engine
 * takes the one write apart again, in TiKV's order: the raft ops are appended to the log (one `fdatasync`)
 * before the applied data is written, and the data is not synced at all but when a log op must follow it
 * durably (`WriteOp.afterData`: a compaction, a snapshot, a removal, a split's new log). A crash then loses at
 * most applies, which the restart makes again from the log (`layers/storageRaftLogged.ts`,
 * `PeerStorage.load`).
 */
import { Deferred, Effect, Exit, Schedule } from "effect"
import { RegionNotFound, type StorageError } from "../protocol/errorpb.js"
import type { Message } from "../protocol/eraftpb.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { RaftInvariantError, type Ready } from "../raft/index.js"
import { orStorageError, type Storage, type WriteOp } from "../services/Storage.js"
import type { Transport } from "../services/Transport.js"
import { type ApplyOutcome, applyEntries, Overlay } from "./apply.js"
import type { Peer, Reply } from "./peer.js"
import { destroyOps } from "./peerLifecycle.js"
import type { PeerFactoryOptions } from "./peerLoader.js"
import type { ApplySnapResult } from "./peerStorage.js"
import { askForReads, type LeasedReply, refuseLapsedLeaseReads, serveReads } from "./readIndexServe.js"
import { refuseReads, takeReadSnapshots, waitsForSnapshot } from "./readSnapshot.js"
import { errorResponse } from "./responses.js"
import { createSplitPeer } from "./split.js"
import type { RoundContext } from "./roundContext.js"

/** How soon a round whose write found no room tries it again: 10 ms doubling, then every second. */
const noRoomRetry = Schedule.exponential("10 millis").pipe(Schedule.union(Schedule.spaced("1 second")))

/**
 * The round's one write. When it finds no room (`DiskFull`: the engine's reserve is used up too, or the
 * disk filled under it), it wrote nothing, and nothing of the round has been answered, advanced or sent
 * (but a leader's replication, which promises nothing about its own disk, and the early answers, which owe
 * nothing to this write): the round tries the very same write again until it fits, so the peers' memory and the disk never
 * part. The store answers nothing meanwhile; freeing space lets the round finish without a restart. The
 * wait is interruptible: a store stopped meanwhile answers the round's replies ServerIsBusy (nothing of
 * them was written) and restarts from what is on disk.
 */
const persist = (storage: Storage["Type"], ops: ReadonlyArray<WriteOp>, roundSync: boolean, idle: boolean) => {
  // With a raft log of its own, the log is durable by itself and the rest need not be: a restart applies again
  // what the engine lost, and the engine syncs what must be durable before a log op (`afterData`) by itself.
  const sync = roundSync && storage.logsRaft !== true
  return storage.write(ops, { sync, idle }).pipe(
    Effect.catchTag("DiskFull", (e) =>
      Effect.gen(function* () {
        yield* Effect.logError(
          `the round's write found no room (${e.reason}): the raft worker retries it and answers nothing until space is freed`
        )
        yield* Effect.interruptible(
          storage
            .write(ops, { sync, idle })
            .pipe(Effect.retry({ schedule: noRoomRetry, while: (r) => r._tag === "DiskFull" }))
        )
        yield* Effect.logInfo("the round's write fit after space was freed: the raft worker goes on")
      })
    ),
    orStorageError
  )
}

/**
 * A round's ops as its raft log ops and its others, when none of its log ops must follow the others (`afterData`):
 * the log ops can then be written alone, first.
 */
const splitRaftOps = (
  ops: ReadonlyArray<WriteOp>
): { readonly raft: ReadonlyArray<WriteOp>; readonly data: ReadonlyArray<WriteOp> } | undefined => {
  const raft: Array<WriteOp> = []
  const data: Array<WriteOp> = []
  for (const op of ops) {
    if (op.space !== "raft") data.push(op)
    else if (op.afterData === true) return undefined
    else raft.push(op)
  }
  return { raft, data }
}

/** What a leader may send before its write: replication, which promises nothing about its own disk. */
const isReplication = (m: Message): boolean => m.msgType === "MsgAppend" || m.msgType === "MsgHeartbeat"

/**
 * Every entry this Ready commits was in this peer's log before the round and is not replaced by it: its
 * durability owes nothing to the round's write.
 */
const committedWasDurable = (rd: Ready, durableLast: number): boolean => {
  const committed = rd.committedEntries
  if (committed.length === 0) return true
  const lastCommitted = committed[committed.length - 1]!.index
  return lastCommitted <= durableLast && (rd.entries.length === 0 || lastCommitted < rd.entries[0]!.index)
}

/**
 * Completes the replies in place: one plain call each rather than an Effect step per reply (a round under 64
 * clients answers dozens), which resumes each waiting handler the same way `Deferred.succeed` does.
 */
const answer = (replies: ReadonlyArray<Reply>): void => {
  for (const [deferred, response] of replies) Deferred.unsafeDone(deferred, Exit.succeed(response))
}

/** Moves the replies from index `from` on that wait for no read snapshot into `early`. */
const takeEarly = (replies: Array<Reply>, from: number, early: Array<Reply>): void => {
  let kept = from
  for (let i = from; i < replies.length; i++) {
    const r = replies[i]!
    if (waitsForSnapshot(r[0])) replies[kept++] = r
    else early.push(r)
  }
  replies.length = kept
}

export interface ReadyWork {
  readonly peer: Peer
  readonly rd: Ready
  readonly snapResult: ApplySnapResult | undefined
  readonly outcome: ApplyOutcome
  /** Peers of the right halves of the splits this peer applied, registered already (see below). */
  readonly created: ReadonlyArray<Peer>
}

/**
 * Persist, send, reply and advance for every peer the round touched; returns what the round must follow
 * up on. The replies are gathered in `ctx.replies`, so a round that fails can still answer them.
 *
 * A peer whose Ready, persist or apply breaks a Raft invariant is stopped (`ctx.fail`) before the write
 * and takes nothing of this round with it into the write: its ops and messages are cut off, and the
 * replies its apply decided are answered RegionNotFound instead (their effects were not written). What it
 * may have left in the round's `Overlay` lies in its own key range, which no other region's apply reads.
 * A peer whose `advance` breaks one is stopped after the write, which it took part in consistently.
 */
export const processReadies = (
  ctx: RoundContext,
  storage: Storage["Type"],
  transport: Transport["Type"],
  factory: PeerFactoryOptions
): Effect.Effect<ReadonlyArray<ReadyWork>, StorageError> =>
  Effect.gen(function* () {
    const ops: Array<WriteOp> = []
    const out: Array<RaftMessage> = []
    // a leader's appends and heartbeats, sent before the write (see the header)
    const early: Array<RaftMessage> = []
    const replies = ctx.replies
    const leased: Array<LeasedReply> = []
    // answers that need nothing of this round's write (see the header)
    const earlyReplies: Array<Reply> = []
    const work: Array<ReadyWork> = []
    // the engine as the worker sees it: with what earlier rounds held back (`deferredWrites.ts`)
    const engine = ctx.registry.engine
    const overlay = new Overlay(engine)
    let sync = false
    // peers the handlers found removed or replaced: erased in this write, their Ready dropped
    for (const peer of ctx.toDestroy) {
      if (peer.stopped) continue
      destroyOps(peer, ops)
      sync = true
    }
    for (const peer of ctx.touched) {
      // the round's commands, as one batch of entries (before the replies move: it may refuse them)
      if (!peer.stopped && !ctx.toDestroy.has(peer)) ctx.guard(peer, () => peer.flushProposals())
      if (peer.replies.length > 0) {
        for (const r of peer.replies) replies.push(r)
        peer.replies = []
      }
      if (peer.stopped || ctx.toDestroy.has(peer)) continue
      const mark = { ops: ops.length, out: out.length, early: early.length, replies: replies.length }
      try {
        // the reads the round's commands brought: one read index for all of them
        askForReads(peer)
        if (!peer.rawNode.hasReady()) {
          // reads taken under the lease need no Ready: they are served as soon as their index is applied
          if (peer.reads.size > 0) serveReads(peer, [], replies, leased)
          continue
        }
        const rd = peer.rawNode.ready()
        // what of this peer's log earlier rounds' writes made durable (persistReady moves the mirror on)
        const durableLast = peer.storage.lastIndex()
        const snapResult = peer.storage.persistReady(rd, ops)
        if (snapResult !== undefined) {
          // entries committed in this same Ready apply on top of the snapshot, which is not on disk yet
          for (let i = mark.ops; i < ops.length; i++) overlay.track(ops[i]!)
          peer.snapshotApplied(rd.snapshot!.metadata.index, replies)
        }
        if (peer.isLeader && rd.messages.some(isReplication)) {
          peer.toRaftMessages(rd.messages.filter(isReplication), early)
          peer.toRaftMessages(
            rd.messages.filter((m) => !isReplication(m)),
            out
          )
        } else peer.toRaftMessages(rd.messages, out)
        const outcome = applyEntries(peer, rd.committedEntries, overlay, ops, replies)
        // a new membership or range: the quorum the lease was confirmed by may no longer be this region's
        if (outcome.regionChanged || outcome.splits.length > 0 || snapResult !== undefined) peer.lease.invalidate()
        serveReads(peer, rd.readStates, replies, leased)
        if (outcome.destroySelf) {
          // its reads applied before the removal cannot be served from a snapshot taken after this write
          refuseReads(replies, mark.replies, errorResponse(new RegionNotFound({ regionId: peer.regionId }), peer.term))
          // atomic with the apply of its own RemoveNode: one write, so a crash cannot split them
          destroyOps(peer, ops)
          ctx.toDestroy.add(peer)
        }
        const made: Array<{ readonly peer: Peer; readonly replaces: Peer | undefined }> = []
        for (const split of outcome.splits) {
          const m = createSplitPeer(ctx.registry, engine, factory, split.right, ops)
          if (m !== undefined) made.push(m)
        }
        // new entries, term or vote promise durability; so do the applies that change what a restart
        // starts from (a plain apply is replayed from the log instead: see the header)
        if (
          rd.mustSync ||
          snapResult !== undefined ||
          outcome.destroySelf ||
          outcome.regionChanged ||
          outcome.splits.length > 0
        )
          sync = true
        // Registered now, before the write, and last in this peer's step (nothing after it can fail and cut
        // its ops): the new peer takes no mail before the next round, which starts after this write, and the
        // StoreWorker — which runs while this round waits on its write — sees the region has a peer instead of
        // creating an empty one of its own.
        for (const m of made) {
          if (m.replaces !== undefined) ctx.registry.remove(m.replaces)
          ctx.registry.register(m.peer)
        }
        if (
          snapResult === undefined &&
          !outcome.destroySelf &&
          !outcome.regionChanged &&
          outcome.splits.length === 0 &&
          committedWasDurable(rd, durableLast)
        ) {
          takeEarly(replies, mark.replies, earlyReplies)
        }
        work.push({ peer, rd, snapResult, outcome, created: made.map((m) => m.peer) })
      } catch (e) {
        if (!(e instanceof RaftInvariantError)) throw e
        ops.length = mark.ops
        out.length = mark.out
        early.length = mark.early
        // answers to commands already in the log, which may apply elsewhere (or here after a restart)
        for (const [d] of replies.splice(mark.replies)) {
          const refused = new RegionNotFound({ regionId: peer.regionId, outcomeUnknown: true })
          replies.push([d, errorResponse(refused, peer.term)])
        }
        ctx.fail(peer, e)
      }
    }
    for (const m of ctx.outbound) out.push(m)
    if (early.length > 0) yield* Effect.interruptible(transport.send(early))
    answer(earlyReplies)
    // An apply-only write nothing waits for is held back to ride with the next write (`deferredWrites.ts`);
    // a write, a reply waiting for it (a read's snapshot) or a tick (a quiet store) takes along all held back.
    // idle: nothing of this round runs beside its write (no appends in flight, no answers out), as a
    // follower's round: the engine may commit a larger write on this thread (`WriteOptions.idle`)
    const idle = early.length === 0 && earlyReplies.length === 0
    const holdable = replies.length === 0 && ctx.ticks === 0
    if (!sync && holdable && engine.accepts(ops)) engine.defer(ops)
    else {
      // With a raft log of its own, the same holds for the applies of a round that also writes the log: its log
      // ops are appended now (their own write, durable on return, before the applies: `storageRaftLogged.ts`), and
      // its applies held back. A follower then acknowledges an append after one log append, and writes its
      // applies with a later round's (a tick's, or one with a reply waiting) in one engine commit. The log ops
      // held back by earlier rounds (a commit index) go first: written later, they would put an older raft state
      // over this round's (the simulator found that one).
      const split = holdable && storage.logsRaft === true ? splitRaftOps(ops) : undefined
      if (split !== undefined && engine.accepts(split.data)) {
        const raft = engine.size > 0 ? [...engine.heldIn("raft"), ...split.raft] : split.raft
        if (raft.length > 0) yield* persist(storage, raft, sync, idle)
        engine.writtenIn("raft")
        engine.defer(split.data)
      } else if (ops.length > 0 || engine.size > 0) {
        const all = engine.size > 0 ? [...engine.ops, ...ops] : ops
        yield* persist(storage, all, sync, idle)
        engine.written()
      }
    }
    yield* takeReadSnapshots(storage, replies)
    // the clock the peers timed their leases by (only peers made with one serve under a lease)
    if (leased.length > 0 && factory.clock !== undefined) {
      refuseLapsedLeaseReads(replies, leased, factory.clock.unsafeCurrentTimeNanos())
    }
    answer(replies)
    for (const w of work) ctx.guard(w.peer, () => w.peer.rawNode.advance(w.rd))
    // Last, and interruptible although the round is not: a transport may fork its delivery fibers here, and
    // those must stay interruptible for the store to stop. A stop in the middle loses messages, which Raft
    // tolerates; every reply is already out.
    if (out.length > 0) yield* Effect.interruptible(transport.send(out))
    return work
  })
