/**
 * The live `RaftWorker`: the round loop (take up to 4096 envelopes, run a round, yield with `RoundYield`),
 * the ticker feeding its mailbox, and the first campaign of single-member regions. See
 * `src/services/RaftWorker.ts` for what it owns and what happens when it fails.
 */
import { Cause, Deferred, Duration, Effect, Exit, Layer, Queue, Schedule } from "effect"
import { RaftInvariantError } from "../raft/index.js"
import { recordRound } from "../raftstore/metrics.js"
import type { PeerFactoryOptions } from "../raftstore/peerLoader.js"
import { reportFailedPeer } from "../raftstore/peerLifecycle.js"
import { type RoundDeps, runRound, type WorkerState } from "../raftstore/round.js"
import { RoundYield } from "../raftstore/roundYield.js"
import { Hibernation } from "../raftstore/hibernate.js"
import { PeerRegistry } from "../raftstore/peerRegistry.js"
import { RaftWorker } from "../services/RaftWorker.js"
import { Router } from "../services/Router.js"
import { SchedulerClient } from "../services/SchedulerClient.js"
import { Storage } from "../services/Storage.js"
import { Transport } from "../services/Transport.js"

/** Envelopes taken per round at most: bounds a round's write and its latency. */
const MAX_BATCH = 4096

export const layerRaftWorker = (factory: PeerFactoryOptions) =>
  Layer.scoped(
    RaftWorker,
    Effect.gen(function* () {
      const registry = yield* PeerRegistry
      const config = factory.config
      const deps: RoundDeps = {
        config,
        factory,
        registry,
        router: yield* Router,
        storage: yield* Storage,
        transport: yield* Transport,
        scheduler: yield* SchedulerClient,
        scope: yield* Effect.scope
      }
      const roundYield = yield* RoundYield
      // the first tick sends a store heartbeat: a store is Up for the scheduler from its start, not only
      // after a heartbeat interval (a short --max-store-down-time would otherwise judge it Down)
      const state: WorkerState = {
        ticksSinceStoreHeartbeat: deps.config.storeHeartbeatTicks,
        tickQueued: false,
        rounds: 0,
        diskFull: undefined,
        hibernation: new Hibernation(config, registry)
      }
      const stopped = yield* Deferred.make<void>()

      const round = Effect.flatMap(Queue.takeBetween(registry.raftMailbox, 1, MAX_BATCH), (batch) =>
        runRound(deps, state, batch).pipe(
          Effect.timed,
          Effect.map(([took]) => recordRound(registry.storeId, Duration.toSeconds(took)))
        )
      )
      // However the worker ends, nothing may wait on it: closing the store answers every command queued or
      // waiting for its entry, and makes the Router refuse everything from then on.
      const onExit = (exit: Exit.Exit<unknown, unknown>) =>
        Effect.gen(function* () {
          if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) {
            yield* Effect.logError("raft worker died: the store is closed and refuses every command", exit.cause)
          }
          yield* registry.close
          yield* Deferred.succeed(stopped, undefined)
        })
      yield* Effect.forkScoped(
        Effect.forever(Effect.zipRight(round, roundYield)).pipe(
          Effect.onExit(onExit),
          Effect.annotateLogs({ storeId: registry.storeId })
        )
      )
      // the ticker stops by itself once the store is closed (a dead worker would never take its ticks); it
      // skips a beat while its last tick waits in the mailbox (`WorkerState.tickQueued`)
      const tick = Effect.suspend(() => {
        if (state.tickQueued) return Effect.void
        state.tickQueued = true
        return Queue.offer(registry.raftMailbox, { _tag: "Tick" })
      })
      yield* Effect.forkScoped(
        tick.pipe(
          Effect.repeat({ schedule: Schedule.spaced(`${config.baseTickMs} millis`), while: () => !registry.isClosed() })
        )
      )
      // campaign at once in a region where we are the only member
      for (const peer of registry.peers.values()) {
        const members = peer.region.peers
        if (members.length !== 1 || members[0]!.storeId !== registry.storeId) continue
        try {
          peer.rawNode.campaign()
        } catch (e) {
          if (!(e instanceof RaftInvariantError)) throw e
          registry.markFailed(peer, e)
          yield* reportFailedPeer(peer, e)
        }
      }
      return RaftWorker.of({ rounds: Effect.sync(() => state.rounds), stopped: Deferred.await(stopped) })
    })
  )
