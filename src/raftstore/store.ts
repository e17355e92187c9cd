/**
 * A replicated store: its peers, Router, RaftWorker and StoreWorker fibers, ticker and scheduler
 * heartbeats (TinyKV `raftstore.go`, `router.go`, `raft_worker.go`, `store_worker.go`, `node.go`).
 *
 * Ownership: the RaftWorker fiber owns every `Peer` — only it steps, proposes, persists and applies.
 * The Router and the StoreWorker only enqueue work for it, or (StoreWorker) register a new peer before
 * re-delivering its message. Shutdown (scope close) stops the ticker, the store worker and the raft
 * worker (a round in progress finishes first: rounds are uninterruptible once their batch is taken), then
 * closes the mailboxes — from then on the Router refuses everything — and answers every command still
 * queued or waiting for its entry with RegionNotFound. The queues are never shut down: an offer to a shut
 * down queue interrupts the offering fiber, which would kill a sender's transport link.
 */
import { Context, Deferred, Effect, Option, Queue, Schedule, type Scope } from "effect"
import { RegionNotFound, type StorageError } from "../protocol/errorpb.js"
import type { RegionId, StoreId } from "../protocol/ids.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { deriveSeed } from "../raft/index.js"
import { MailboxClosed, type PeerMsg, PeerNotFound, Router, type StoreMsg } from "../services/Router.js"
import { SchedulerClient } from "../services/SchedulerClient.js"
import { Storage, type WriteOp } from "../services/Storage.js"
import { Transport } from "../services/Transport.js"
import { RegionLocalStateCodec, SnapshotDataCodec } from "./codec.js"
import type { StoreConfig } from "./config.js"
import { REGION_META_MAX_KEY, REGION_META_MIN_KEY, regionIdOfStateKey, regionStateKey } from "./keys.js"
import { Peer } from "./peer.js"
import { clearRangeOps, isInitialized, PeerStorage } from "./peerStorage.js"
import { processReadies } from "./raftWorker.js"
import { findPeer, isEpochStale, rangesOverlap } from "./regionUtil.js"
import { onStoreRaftMessage, type StoreWorkerContext } from "./storeWorker.js"
import { errorResponse } from "./responses.js"

/**
 * Lets timers and socket IO run between rounds. Effect resumes fibers through microtasks, and an
 * in-process cluster (memory transport) keeps every fiber busy in one microtask chain that never
 * reaches the event loop's timer phase: ticks and client deadlines would never fire. A `setImmediate`
 * hop per round costs microseconds and bounds that starvation to one round.
 */
const yieldToEventLoop = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/**
 * What the RaftWorker runs between two rounds. A deterministic simulation under `TestClock` provides
 * `Effect.yieldNow()` instead: there no real timer needs the event loop, and a `setImmediate` hop would
 * interleave with Effect's own scheduler in an order that depends on wall-clock time.
 */
export class RoundYield extends Context.Reference<RoundYield>()("tinykv/raftstore/RoundYield", {
  defaultValue: (): Effect.Effect<void> => yieldToEventLoop
}) {}

type Envelope =
  | { readonly _tag: "Peer"; readonly regionId: RegionId; readonly msg: PeerMsg }
  | { readonly _tag: "Tick" }

export interface StoreOptions {
  readonly storeId: StoreId
  readonly config: StoreConfig
  /** Seeds every peer's election jitter (with the region id mixed in). */
  readonly seed: number
}

export interface RaftStore {
  readonly storeId: StoreId
  readonly router: Router["Type"]
  /** The live peers, by region (read-only view for tests and status). */
  readonly peers: ReadonlyMap<RegionId, Peer>
}

export const makeRaftStore = (
  options: StoreOptions
): Effect.Effect<RaftStore, StorageError, Storage | Transport | SchedulerClient | Scope.Scope> =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const transport = yield* Transport
    const scheduler = yield* SchedulerClient
    const roundYield = yield* RoundYield
    const { storeId, config } = options
    const peers = new Map<RegionId, Peer>()
    const queue = yield* Queue.unbounded<Envelope>()
    const storeQueue = yield* Queue.unbounded<StoreMsg>()
    const scope = yield* Effect.scope
    /** Set first thing on shutdown: from then on nothing is enqueued, and every command is answered. */
    let closed = false

    const newPeer = (meta: Peer["meta"], ps: PeerStorage) =>
      new Peer(storeId, meta, ps, {
        electionTicks: config.electionTicks,
        heartbeatTicks: config.heartbeatTicks,
        seed: deriveSeed(options.seed, ps.region.id * 1_000_003 + meta.id)
      })

    // --- load the peers on disk (TinyKV `loadPeers`) ---
    const initOps: Array<WriteOp> = []
    for (const { key, value } of storage.latest.scan("meta", {
      start: REGION_META_MIN_KEY,
      end: REGION_META_MAX_KEY
    })) {
      if (regionIdOfStateKey(key) === undefined) continue
      const state = RegionLocalStateCodec.decode(value)
      if (state.state === "Tombstone") continue
      const meta = findPeer(state.region, storeId)
      if (meta === undefined) continue
      const { storage: ps, initOps: ops } = PeerStorage.load(storage.latest, state.region)
      initOps.push(...ops)
      const peer = newPeer(meta, ps)
      peers.set(peer.regionId, peer)
    }
    if (initOps.length > 0) yield* storage.write(initOps, { sync: true })

    // --- Router ---
    const send = (regionId: RegionId, msg: PeerMsg): Effect.Effect<void, PeerNotFound | MailboxClosed> => {
      if (closed) return Effect.fail(new MailboxClosed({ regionId }))
      const peer = peers.get(regionId)
      if (peer === undefined) return Effect.fail(new PeerNotFound({ regionId }))
      if (peer.stopped) return Effect.fail(new MailboxClosed({ regionId }))
      return Queue.offer(queue, { _tag: "Peer", regionId, msg })
    }
    const sendStore = (msg: StoreMsg): Effect.Effect<void> =>
      Effect.suspend(() => (closed ? Effect.void : Queue.offer(storeQueue, msg)))
    const router = Router.of({
      send,
      sendStore,
      sendRaftMessage: (message) =>
        send(message.regionId, { _tag: "RaftMessage", message }).pipe(
          Effect.catchTags({
            PeerNotFound: () => sendStore({ _tag: "RaftMessage", message }),
            MailboxClosed: () => sendStore({ _tag: "RaftMessage", message })
          }),
          Effect.asVoid
        ),
      sendCommand: (request: RaftCmdRequest) =>
        Effect.gen(function* () {
          const reply = yield* Deferred.make<RaftCmdResponse>()
          yield* send(request.header.regionId, { _tag: "RaftCommand", request, reply }).pipe(
            Effect.mapError(() => new RegionNotFound({ regionId: request.header.regionId }))
          )
          return yield* Deferred.await(reply)
        })
    })

    // --- peer lifecycle ---
    const destroyPeer = (peer: Peer) =>
      Effect.gen(function* () {
        if (peer.stopped) return
        peer.stopped = true
        peers.delete(peer.regionId)
        peer.failAllProposals()
        const ops: Array<WriteOp> = []
        peer.storage.clearMetaOps(ops)
        ops.push({
          _tag: "Put",
          space: "meta",
          key: regionStateKey(peer.regionId),
          value: RegionLocalStateCodec.encode({ state: "Tombstone", region: peer.region })
        })
        if (isInitialized(peer.region)) ops.push(...clearRangeOps(peer.region.startKey, peer.region.endKey))
        yield* storage.write(ops, { sync: true })
        for (const [d, r] of peer.replies) yield* Deferred.succeed(d, r)
        peer.replies = []
        yield* Effect.logInfo("peer destroyed").pipe(Effect.annotateLogs({ regionId: peer.regionId, peerId: peer.id }))
      })

    const toDestroy = new Set<Peer>()
    const reroute: Array<RaftMessage> = []

    /** TinyKV `onRaftMsg` + `checkMessage`. */
    const onRaftMessage = (peer: Peer, m: RaftMessage): void => {
      if (m.toPeer.storeId !== storeId) return
      if (m.isTombstone) {
        // the sender says we were removed; believe it only if its epoch is newer than ours
        if (m.toPeer.id === peer.meta.id && isEpochStale(peer.region.regionEpoch, m.regionEpoch)) toDestroy.add(peer)
        return
      }
      if (m.toPeer.id !== peer.meta.id) {
        // a newer peer of this region lives here now: this one is stale
        if (m.toPeer.id > peer.meta.id) {
          toDestroy.add(peer)
          reroute.push(m)
        }
        return
      }
      if (
        isEpochStale(m.regionEpoch, peer.region.regionEpoch) &&
        findPeer(peer.region, m.fromPeer.storeId) === undefined
      ) {
        return // from a peer that was removed from this region
      }
      const snap = m.message.snapshot
      if (snap !== undefined && m.message.msgType === "MsgSnapshot") {
        // a snapshot whose region overlaps another region of this store would corrupt it (TinyKV `checkSnapshot`)
        const snapRegion = SnapshotDataCodec.decode(snap.data).region
        for (const other of peers.values()) {
          if (other !== peer && isInitialized(other.region) && rangesOverlap(other.region, snapRegion)) return
        }
      }
      peer.insertPeerCache(m.fromPeer)
      peer.rawNode.step(m.message)
    }

    const onTick = (peer: Peer): void => {
      peer.rawNode.tick()
      if (!peer.isLeader) return
      if (++peer.ticksSinceGc >= config.raftLogGcTicks) {
        peer.ticksSinceGc = 0
        const applied = peer.storage.appliedIndex
        if (applied - peer.storage.firstIndex() + 1 >= config.raftLogGcCountLimit && applied > peer.compactProposedAt) {
          const term = peer.storage.term(applied)
          if (typeof term === "number") {
            peer.compactProposedAt = applied
            peer.proposeInternal({
              header: { regionId: peer.regionId, peer: peer.meta, regionEpoch: peer.region.regionEpoch, term: 0 },
              requests: [],
              adminRequest: { _tag: "CompactLog", compactIndex: applied, compactTerm: term }
            })
          }
        }
      }
      if (++peer.ticksSinceHeartbeat >= config.regionHeartbeatTicks) {
        peer.ticksSinceHeartbeat = 0
        heartbeats.push(peer)
      }
    }

    const heartbeats: Array<Peer> = []

    /** Reports a leader's region to the scheduler and runs the operator step it answers with. */
    const regionHeartbeat = (peer: Peer) => {
      const region = peer.region
      const leader = peer.meta
      const pendingPeers = peer.pendingPeers()
      return scheduler.regionHeartbeat({ region, leader, pendingPeers, approximateSize: 0 }).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.void,
            onSome: (op) => {
              const adminRequest = op.changePeer
                ? ({ _tag: "ChangePeer", changeType: op.changePeer.changeType, peer: op.changePeer.peer } as const)
                : op.transferLeader
                  ? ({ _tag: "TransferLeader", peer: op.transferLeader.peer } as const)
                  : undefined
              if (adminRequest === undefined) return Effect.void
              return Effect.flatMap(Deferred.make<RaftCmdResponse>(), (reply) =>
                send(op.regionId, {
                  _tag: "RaftCommand",
                  request: {
                    header: { regionId: op.regionId, peer: op.targetPeer, regionEpoch: op.regionEpoch, term: 0 },
                    requests: [],
                    adminRequest
                  },
                  reply
                })
              )
            }
          })
        ),
        Effect.catchAll((e) => Effect.logDebug("region heartbeat failed", e)),
        // forked from the uninterruptible round: the fiber itself must stay interruptible for shutdown
        Effect.interruptible,
        Effect.forkIn(scope),
        Effect.asVoid
      )
    }

    // --- RaftWorker: one round per batch of mail ---
    let ticks = 0
    // Uninterruptible once the batch is taken: a store stopped mid-round finishes the round (its write, its
    // replies) first, so no command taken from the queue is left unanswered and no write lands after a restart.
    const processBatch = (batch: Iterable<Envelope>) =>
      Effect.gen(function* () {
        const touched = new Set<Peer>()
        for (const env of batch) {
          if (env._tag === "Tick") {
            ticks++
            for (const peer of peers.values()) {
              onTick(peer)
              touched.add(peer)
            }
            continue
          }
          const peer = peers.get(env.regionId)
          if (peer === undefined || peer.stopped) {
            if (env.msg._tag === "RaftCommand") {
              yield* Deferred.succeed(env.msg.reply, errorResponse(new RegionNotFound({ regionId: env.regionId })))
            } else reroute.push(env.msg.message)
            continue
          }
          if (env.msg._tag === "RaftMessage") onRaftMessage(peer, env.msg.message)
          else peer.propose(env.msg.request, env.msg.reply)
          touched.add(peer)
        }
        const work = yield* processReadies(touched, storage, transport)
        for (const w of work) {
          if (w.outcome.destroySelf) toDestroy.add(w.peer)
          if (w.rd.softState?.raftState === "Leader") heartbeats.push(w.peer)
          if (w.snapResult !== undefined) {
            yield* Effect.logInfo(`applied a snapshot at index ${w.peer.storage.appliedIndex}`).pipe(
              Effect.annotateLogs({ regionId: w.peer.regionId, peerId: w.peer.id })
            )
          }
        }
        for (const peer of toDestroy) yield* destroyPeer(peer)
        toDestroy.clear()
        for (const m of reroute.splice(0)) yield* sendStore({ _tag: "RaftMessage", message: m })
        for (const peer of heartbeats.splice(0)) if (!peer.stopped && peer.isLeader) yield* regionHeartbeat(peer)
        if (ticks >= config.storeHeartbeatTicks) {
          ticks = 0
          yield* storeHeartbeat
        }
      }).pipe(Effect.uninterruptible)
    const round = Effect.flatMap(Queue.takeBetween(queue, 1, 4096), processBatch)

    const storeHeartbeat = scheduler
      .storeHeartbeat({
        storeId,
        capacity: 0,
        available: 0,
        regionCount: peers.size,
        sendingSnapCount: 0,
        receivingSnapCount: 0,
        startTime: 0,
        applyingSnapCount: 0,
        isBusy: false,
        usedSize: 0
      })
      .pipe(
        Effect.catchAll((e) => Effect.logDebug("store heartbeat failed", e)),
        Effect.interruptible,
        Effect.forkIn(scope),
        Effect.asVoid
      )

    // --- StoreWorker: messages for regions without a peer here ---
    const storeWorker: StoreWorkerContext = {
      storeId,
      storage,
      transport,
      peers,
      redeliver: (m) => router.sendRaftMessage(m),
      createPeer: (region, m) =>
        Effect.gen(function* () {
          const { storage: ps, initOps: ops } = PeerStorage.load(storage.latest, region)
          if (ops.length > 0) yield* storage.write(ops, { sync: true })
          const peer = newPeer(m.toPeer, ps)
          peer.insertPeerCache(m.fromPeer)
          peers.set(region.id, peer)
          yield* Effect.logInfo("created a peer for a new region").pipe(
            Effect.annotateLogs({ regionId: region.id, peerId: m.toPeer.id })
          )
        })
    }

    // --- fibers; on shutdown (in reverse): ticker, store worker, raft worker stop, then this finalizer ---
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        closed = true
        // commands still queued would otherwise wait forever: the Router promises every command an answer
        for (const env of yield* Queue.takeAll(queue)) {
          if (env._tag === "Peer" && env.msg._tag === "RaftCommand") {
            yield* Deferred.succeed(env.msg.reply, errorResponse(new RegionNotFound({ regionId: env.regionId })))
          }
        }
        yield* Queue.takeAll(storeQueue)
        for (const peer of peers.values()) {
          peer.stopped = true
          peer.failAllProposals()
          for (const [d, r] of peer.replies) yield* Deferred.succeed(d, r)
          peer.replies = []
        }
      })
    )
    const logged = <A, E, R>(name: string, loop: Effect.Effect<A, E, R>) =>
      loop.pipe(
        Effect.tapErrorCause((cause) => Effect.logError(`${name} stopped`, cause)),
        Effect.annotateLogs({ storeId })
      )
    yield* Effect.forkScoped(logged("raft worker", Effect.forever(Effect.zipRight(round, roundYield))))
    yield* Effect.forkScoped(
      logged(
        "store worker",
        Effect.forever(
          Effect.flatMap(Queue.take(storeQueue), (msg) =>
            Effect.uninterruptible(onStoreRaftMessage(storeWorker, msg.message))
          )
        )
      )
    )
    yield* Effect.forkScoped(
      Queue.offer(queue, { _tag: "Tick" }).pipe(Effect.repeat(Schedule.spaced(`${config.baseTickMs} millis`)))
    )
    // campaign at once in a region where we are the only member
    for (const peer of peers.values()) {
      if (peer.region.peers.length === 1 && peer.region.peers[0]!.storeId === storeId) peer.rawNode.campaign()
    }
    return { storeId, router, peers }
  })
