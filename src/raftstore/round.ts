/**
 * One RaftWorker round (TiKV `RaftPoller::handle_normal` + `end`): hand each envelope of the batch to its
 * peer's handler (`peerHandlers.ts`), then `processReadies` (one write, at most one fsync, replies after it), then
 * the follow-ups the handlers recorded in the round's `RoundContext`: report failed peers, unregister the
 * destroyed ones (erased by the round's own write), re-route messages for newer peers, report leaders to
 * the scheduler.
 *
 * Uninterruptible once the batch is taken: a store stopped mid-round finishes the round (its write, its
 * replies) first, so no command taken from the mailbox is left unanswered and no write lands after a
 * restart. A round that fails (a storage error, a bug) answers every reply it held with ServerIsBusy —
 * the RaftWorker then dies and closes the store, which answers everything else.
 */
import { Deferred, Effect, type Scope } from "effect"
import { RegionNotFound, ServerIsBusy, type StorageError } from "../protocol/errorpb.js"
import type { Envelope, PeerRegistry } from "./peerRegistry.js"
import type { Router } from "../services/Router.js"
import type { SchedulerClient } from "../services/SchedulerClient.js"
import type { Storage } from "../services/Storage.js"
import { diskStats } from "./storeStats.js"
import { dropForDiskFull, refuseForDiskFull, reportDiskFull } from "./diskFull.js"
import type { Transport } from "../services/Transport.js"
import type { StoreConfig } from "./config.js"
import { forkBackground, regionHeartbeat, storeHeartbeat } from "./heartbeat.js"
import { heartbeatSent } from "./heartbeatThrottle.js"
import type { Hibernation } from "./hibernate.js"
import { onCommand, onRaftMessage, onSplitCheckResult, onTick } from "./peerHandlers.js"
import type { Peer } from "./peer.js"
import { finishDestroy, reportFailedPeer } from "./peerLifecycle.js"
import type { PeerFactoryOptions } from "./peerLoader.js"
import { recordSnapshot } from "./metrics.js"
import { processReadies } from "./raftWorker.js"
import { errorResponse } from "./responses.js"
import { RoundContext } from "./roundContext.js"
import { runSplitCheck } from "./splitCheckRunner.js"

/** What a round works with; all of it is the RaftWorker's (the registry shared as `PeerRegistry` says). */
export interface RoundDeps {
  readonly config: StoreConfig
  /** How the peers a split creates are made (the same constructor as every other peer's). */
  readonly factory: PeerFactoryOptions
  readonly registry: PeerRegistry["Type"]
  readonly router: Router["Type"]
  readonly storage: Storage["Type"]
  readonly transport: Transport["Type"]
  readonly scheduler: SchedulerClient["Type"]
  /** The RaftWorker's scope: background scheduler calls are forked into it, and end with it. */
  readonly scope: Scope.Scope
}

/** The RaftWorker's state that outlives a round. */
export interface WorkerState {
  ticksSinceStoreHeartbeat: number
  /**
   * A tick is in the mailbox and not yet taken: the ticker adds none while one waits (TiKV's ticks are
   * coalesced the same way). A worker held up for a second sees one tick when it resumes, not ten run
   * back to back: Raft's clock then lags the wall clock instead of catching up in a burst, which only
   * delays timeouts (safe for lease reads, whose deadline is on the wall clock), and a busy worker does
   * not pay a tick of every awake peer per queued tick.
   */
  tickQueued: boolean
  rounds: number
  /** Why the engine had no room for client writes at the last store heartbeat (undefined: it had room). */
  diskFull: string | undefined
  /** Which peers sleep and when they are due (`hibernate.ts`). */
  readonly hibernation: Hibernation
}

/** Feeds each envelope to its peer's handler; a failed peer's commands are answered, its messages dropped. */
const dispatch = (deps: RoundDeps, state: WorkerState, ctx: RoundContext, batch: Iterable<Envelope>) =>
  Effect.gen(function* () {
    const { registry, config } = deps
    for (const env of batch) {
      if (env._tag === "Tick") {
        state.tickQueued = false
        ctx.ticks++
        // only the awake peers: a sleeping one costs nothing per tick (`hibernate.ts`)
        for (const peer of ctx.hibernation!.tickable()) {
          if (peer.stopped) continue // the store is closing
          ctx.guard(peer, () => onTick(ctx, config, peer))
          if (!peer.stopped) ctx.touched.add(peer)
        }
        // the sleeping peers due now: leaders check in (and report to the scheduler), late followers wake
        const due = ctx.hibernation!.onStoreTick((peer) => ctx.heartbeats.push(peer))
        for (const peer of due) ctx.touched.add(peer)
        continue
      }
      const peer = registry.peers.get(env.regionId)
      const msg = env.msg
      if (peer === undefined || peer.stopped) {
        if (msg._tag === "RaftCommand") {
          yield* Deferred.succeed(msg.reply, errorResponse(new RegionNotFound({ regionId: env.regionId })))
        } else if (msg._tag === "RaftMessage") ctx.reroute.push(msg.message)
        continue
      }
      if (msg._tag === "RaftMessage") {
        if (dropForDiskFull(deps.storage.diskFull, msg.message)) continue
        ctx.guard(peer, () => onRaftMessage(ctx, registry.ranges, peer, msg.message))
      } else if (msg._tag === "SplitCheckResult") {
        onSplitCheckResult(peer, msg)
        // a split still to make needs the leader's split check ticks: a sleeping one wakes (and heartbeats)
        if (!peer.splitPending || !peer.isLeader || peer.hibernation.state === "awake") continue
        ctx.hibernation?.wake(peer, "quiet")
      } else if (msg._tag === "ReportToScheduler") {
        // not `touched`: a report needs no Ready, and a sleeping leader stays asleep
        if (peer.isLeader) ctx.heartbeats.push(peer)
        continue
      } else {
        const refused = refuseForDiskFull(deps.storage.diskFull, peer, msg.request)
        if (refused !== undefined) {
          ctx.replies.push([msg.reply, refused])
          continue
        }
        ctx.guard(peer, () => onCommand(ctx, peer, msg.request, msg.reply))
        // a proposal that broke the peer was neither queued nor answered; the core may have logged it already
        if (peer.stopped) {
          const refused = new RegionNotFound({ regionId: env.regionId, outcomeUnknown: true })
          ctx.replies.push([msg.reply, errorResponse(refused)])
        }
      }
      if (!peer.stopped) ctx.touched.add(peer)
    }
  })

export const runRound = (
  deps: RoundDeps,
  state: WorkerState,
  batch: Iterable<Envelope>
): Effect.Effect<void, StorageError> => {
  const ctx = new RoundContext(deps.registry, state.hibernation)
  const { registry, storage, router, scheduler, scope, config } = deps
  return Effect.gen(function* () {
    yield* dispatch(deps, state, ctx, batch)
    const work = yield* processReadies(ctx, storage, deps.transport, deps.factory)
    // new regions announced to the scheduler by the parent's leader before they have a leader of their own
    const announced: Array<Peer> = []
    for (const w of work) {
      for (const created of w.created) {
        // the new region's leader is elected where the parent's was, at once (TiKV): the other replicas
        // may not have applied the split yet, and would otherwise wait out an election timeout. Its
        // range is reported at once too: until then the scheduler's map has a gap where clients
        // (and operators) find no region, for as long as an election under faults takes
        if (w.peer.isLeader) {
          ctx.guard(created, () => created.rawNode.campaign())
          announced.push(created)
        }
        yield* Effect.logInfo(
          `split: region ${w.peer.regionId} now ends where new region ${created.regionId} starts`
        ).pipe(Effect.annotateLogs({ regionId: w.peer.regionId, peerId: w.peer.id }))
      }
      // a new leader, or a leader whose membership just changed, reports at once (the scheduler's operator
      // waits on the region it reports); a new leader also forgets a compaction an earlier term proposed
      const becameLeader = w.rd.softState?.raftState === "Leader"
      if (becameLeader) w.peer.compactProposedAt = 0
      if (becameLeader || w.outcome.regionChanged) ctx.heartbeats.push(w.peer)
      const annotations = { regionId: w.peer.regionId, peerId: w.peer.id }
      if (w.snapResult !== undefined) {
        recordSnapshot(registry.storeId, "applied")
        yield* Effect.logInfo(`applied a snapshot at index ${w.peer.storage.appliedIndex}`).pipe(
          Effect.annotateLogs(annotations)
        )
      }
      if (w.outcome.compactedTo !== undefined) {
        yield* Effect.logInfo(`compacted the raft log up to index ${w.outcome.compactedTo}`).pipe(
          Effect.annotateLogs(annotations)
        )
      }
    }
    for (const { peer, error } of ctx.failed) yield* reportFailedPeer(peer, error)
    for (const peer of ctx.toDestroy) {
      state.hibernation.forget(peer)
      yield* finishDestroy(registry, peer)
    }
    for (const m of ctx.reroute) yield* router.sendStore({ _tag: "RaftMessage", message: m })
    const background = {
      storage,
      router,
      scheduler,
      commandTimeoutMs: config.commandTimeoutMs
    }
    for (const peer of new Set(ctx.heartbeats)) {
      if (peer.stopped || !peer.isLeader) continue
      heartbeatSent(peer)
      yield* forkBackground(scope, regionHeartbeat(background, peer))
    }
    for (const peer of announced) {
      if (peer.stopped) continue
      heartbeatSent(peer)
      yield* forkBackground(scope, regionHeartbeat(background, peer))
    }
    for (const peer of ctx.splitChecks) {
      if (peer.stopped) continue
      const job = {
        region: peer.region,
        leader: peer.meta,
        policy: { _tag: "BySize", splitSize: config.regionSplitSize, maxSize: config.regionMaxSize } as const
      }
      yield* forkBackground(scope, runSplitCheck(background, job))
    }
    state.ticksSinceStoreHeartbeat += ctx.ticks
    if (state.ticksSinceStoreHeartbeat >= config.storeHeartbeatTicks) {
      state.ticksSinceStoreHeartbeat = 0
      let regionBytes = 0
      for (const peer of registry.peers.values()) regionBytes += peer.approximateSize ?? 0
      const disk = diskStats(storage.path, regionBytes)
      state.diskFull = yield* reportDiskFull(registry.storeId, state.diskFull, storage.diskFull())
      yield* forkBackground(scope, storeHeartbeat(scheduler, router, registry.storeId, registry.peers.size, disk))
    }
    state.rounds++
  }).pipe(
    Effect.onError(() =>
      Effect.gen(function* () {
        // the round's replies include answers to commands already in the log
        const busy = errorResponse(new ServerIsBusy({ reason: "the store's raft worker failed", outcomeUnknown: true }))
        for (const [d] of ctx.replies) yield* Deferred.succeed(d, busy)
        for (const { peer, error } of ctx.failed) yield* reportFailedPeer(peer, error)
      })
    ),
    Effect.uninterruptible
  )
}
