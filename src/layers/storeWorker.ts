/**
 * The live `StoreWorker`: one fiber taking the StoreWorker mailbox in order, each message handled
 * uninterruptibly (a peer is persisted and registered whole, or not at all). Peers it creates go through
 * the same constructor as the loaded ones (`newPeer`). See `src/services/StoreWorker.ts` for what it owns.
 */
import { Cause, Effect, Layer, Queue } from "effect"
import type { Region } from "../protocol/metapb.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { RaftInvariantError } from "../raft/index.js"
import type { Peer } from "../raftstore/peer.js"
import { newPeer, type PeerFactoryOptions } from "../raftstore/peerLoader.js"
import { PeerStorage } from "../raftstore/peerStorage.js"
import { onStoreRaftMessage, type StoreWorkerContext } from "../raftstore/storeWorker.js"
import type { StoreWorkerVerdict } from "../services/StoreWorker.js"
import { PeerRegistry } from "../raftstore/peerRegistry.js"
import { Router } from "../services/Router.js"
import { Storage, type WriteOp } from "../services/Storage.js"
import { StoreWorker } from "../services/StoreWorker.js"
import { Transport } from "../services/Transport.js"

export const layerStoreWorker = (options: PeerFactoryOptions) =>
  Layer.scoped(
    StoreWorker,
    Effect.gen(function* () {
      const registry = yield* PeerRegistry
      const router = yield* Router
      const storage = yield* Storage
      const transport = yield* Transport
      const verdicts: Partial<Record<StoreWorkerVerdict, number>> = {}

      const createPeer = (region: Region, m: RaftMessage) =>
        Effect.gen(function* () {
          // one region the store cannot make a peer of stays down, alone (as at start: `loadPeers`)
          let made: { readonly initOps: ReadonlyArray<WriteOp>; readonly peer: Peer }
          try {
            const { storage: ps, initOps } = PeerStorage.load(registry.engine, region)
            made = { initOps, peer: newPeer(options, m.toPeer, ps) }
          } catch (e) {
            if (!(e instanceof RaftInvariantError)) throw e
            registry.markLoadFailed(region.id, e)
            return yield* Effect.logError(`region failed to load: its peer stays down (${e.message})`, e).pipe(
              Effect.annotateLogs({ regionId: region.id, peerId: m.toPeer.id })
            )
          }
          const { initOps, peer } = made
          if (initOps.length > 0) yield* storage.write(initOps, { sync: true })
          peer.insertPeerCache(m.fromPeer)
          // a split may have made this region's peer while the write above was in flight: that one stays
          if (!registry.register(peer)) return
          yield* Effect.logInfo("created a peer for a new region").pipe(
            Effect.annotateLogs({ regionId: region.id, peerId: m.toPeer.id })
          )
        })
      const ctx: StoreWorkerContext = {
        storeId: options.storeId,
        storage,
        transport,
        peers: registry.peers,
        ranges: registry.ranges,
        failed: registry.failed,
        redeliver: (m) => router.sendRaftMessage(m),
        createPeer
      }
      const handle = (message: RaftMessage) =>
        onStoreRaftMessage(ctx, message).pipe(
          Effect.tap((v) => Effect.sync(() => void (verdicts[v] = (verdicts[v] ?? 0) + 1))),
          Effect.uninterruptible
        )
      yield* Effect.forkScoped(
        Effect.forever(Effect.flatMap(Queue.take(registry.storeMailbox), (msg) => handle(msg.message))).pipe(
          // a store whose engine fails here is not one to keep serving: close it loudly, as the RaftWorker does
          Effect.tapErrorCause((cause) =>
            Cause.isInterruptedOnly(cause)
              ? Effect.void
              : Effect.zipRight(Effect.logError("store worker died: the store is closed", cause), registry.close)
          ),
          Effect.annotateLogs({ storeId: options.storeId })
        )
      )
      return StoreWorker.of({ verdicts: Effect.sync(() => ({ ...verdicts })) })
    })
  )
