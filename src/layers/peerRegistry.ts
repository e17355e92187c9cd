/**
 * The live `PeerRegistry`: loads the peers recorded on disk (persisting their initial state with one
 * fsync before any peer runs), makes the two mailboxes, and closes the store when its scope closes —
 * which, in the raftstore's layer order, is after every worker stopped.
 */
import { Deferred, Effect, Layer, Queue } from "effect"
import { RegionNotFound } from "../protocol/errorpb.js"
import type { RegionId } from "../protocol/ids.js"
import type { RaftInvariantError } from "../raft/index.js"
import type { Peer } from "../raftstore/peer.js"
import { completePeerReplies } from "../raftstore/peerLifecycle.js"
import { loadPeers, type PeerFactoryOptions } from "../raftstore/peerLoader.js"
import { isInitialized } from "../raftstore/peerStorage.js"
import { DeferredWrites } from "../raftstore/deferredWrites.js"
import { RegionRanges } from "../raftstore/regionRanges.js"
import { errorResponse } from "../raftstore/responses.js"
import { type Envelope, PeerRegistry } from "../raftstore/peerRegistry.js"
import type { StoreMsg } from "../services/Router.js"
import { orStorageError, Storage } from "../services/Storage.js"

export const layerPeerRegistry = (options: PeerFactoryOptions) =>
  Layer.scoped(
    PeerRegistry,
    Effect.gen(function* () {
      const storage = yield* Storage
      const engine = new DeferredWrites(storage.latest)
      const loaded = loadPeers(engine, options)
      if (loaded.initOps.length > 0) yield* orStorageError(storage.write(loaded.initOps, { sync: true }))
      const peers = new Map<RegionId, Peer>()
      const ranges = new RegionRanges<Peer>()
      const follow = (peer: Peer) => {
        const place = () => ranges.set(peer, isInitialized(peer.region) ? peer.region : undefined)
        peer.storage.onRegionChange = place
        place()
      }
      const forget = (peer: Peer) => {
        peer.storage.onRegionChange = undefined
        ranges.delete(peer)
      }
      for (const peer of loaded.peers) {
        peers.set(peer.regionId, peer)
        follow(peer)
      }
      const ticking = new Set<Peer>(peers.values())
      const failed = new Map<RegionId, RaftInvariantError>()
      for (const { regionId, error } of loaded.failed) {
        failed.set(regionId, error)
        yield* Effect.logError(`region failed to load: its peer stays down (${error.message})`, error).pipe(
          Effect.annotateLogs({ storeId: options.storeId, regionId })
        )
      }
      const raftMailbox = yield* Queue.unbounded<Envelope>()
      const storeMailbox = yield* Queue.unbounded<StoreMsg>()
      let closed = false

      const close = Effect.gen(function* () {
        closed = true
        // commands still queued would otherwise wait forever: the Router promises every command an answer
        for (const env of yield* Queue.takeAll(raftMailbox)) {
          if (env._tag === "Peer" && env.msg._tag === "RaftCommand") {
            yield* Deferred.succeed(env.msg.reply, errorResponse(new RegionNotFound({ regionId: env.regionId })))
          }
        }
        yield* Queue.takeAll(storeMailbox)
        for (const peer of peers.values()) {
          peer.stopped = true
          peer.failAllProposals()
          yield* completePeerReplies(peer)
        }
      })

      const registry = PeerRegistry.of({
        storeId: options.storeId,
        peers,
        ranges,
        engine,
        ticking,
        failed,
        isClosed: () => closed,
        raftMailbox,
        storeMailbox,
        register: (peer) => {
          const live = peers.get(peer.regionId)
          if (live !== undefined && !live.stopped) return false
          if (live !== undefined) forget(live)
          peers.set(peer.regionId, peer)
          ticking.add(peer)
          follow(peer)
          return true
        },
        remove: (peer) => {
          peer.stopped = true
          if (peers.get(peer.regionId) === peer) peers.delete(peer.regionId)
          ticking.delete(peer)
          forget(peer)
        },
        markFailed: (peer, error) => {
          peer.stopped = true
          if (peers.get(peer.regionId) === peer) peers.delete(peer.regionId)
          ticking.delete(peer)
          forget(peer)
          failed.set(peer.regionId, error)
          peer.failAllProposals()
        },
        markLoadFailed: (regionId, error) => {
          failed.set(regionId, error)
        },
        close
      })
      yield* Effect.addFinalizer(() => close)
      return registry
    })
  )
