/**
 * The end of a peer's life on this store, run by the RaftWorker (the peer's owner) at the end of a
 * round, after the round's write: destroying a removed peer (TinyKV `destroyPeer`), and stopping a peer
 * that broke a Raft invariant.
 */
import { Deferred, Effect } from "effect"
import type { StorageError } from "../protocol/errorpb.js"
import type { RaftInvariantError } from "../raft/index.js"
import type { PeerRegistry } from "./peerRegistry.js"
import type { Storage, WriteOp } from "../services/Storage.js"
import { RegionLocalStateCodec } from "./codec.js"
import { regionStateKey } from "./keys.js"
import type { Peer } from "./peer.js"
import { clearRangeOps, isInitialized } from "./peerStorage.js"

/** Completes every reply a stopped peer still holds (its own errors and its failed proposals). */
export const completePeerReplies = (peer: Peer): Effect.Effect<void> =>
  Effect.suspend(() => {
    const replies = peer.replies
    peer.replies = []
    return Effect.forEach(replies, ([d, r]) => Deferred.succeed(d, r), { discard: true })
  })

/**
 * Unregisters the peer (the Router refuses it from this instant), answers its waiting proposals with
 * RegionNotFound, writes its tombstone and clears its data.
 */
export const destroyPeer = (
  storage: Storage["Type"],
  registry: PeerRegistry["Type"],
  peer: Peer
): Effect.Effect<void, StorageError> =>
  Effect.gen(function* () {
    if (peer.stopped) return
    registry.remove(peer)
    peer.failAllProposals()
    const ops: Array<WriteOp> = []
    peer.storage.clearMetaOps(ops)
    ops.push({
      _tag: "Put",
      space: "meta",
      key: regionStateKey(peer.regionId),
      value: RegionLocalStateCodec.encode({ state: "Tombstone", region: peer.region })
    })
    if (isInitialized(peer.region)) ops.push(...clearRangeOps(peer.region))
    yield* storage.write(ops, { sync: true })
    yield* completePeerReplies(peer)
    yield* Effect.logInfo("peer destroyed").pipe(Effect.annotateLogs({ regionId: peer.regionId, peerId: peer.id }))
  })

/**
 * Reports a peer the round stopped for breaking a Raft invariant (it is already unregistered and its
 * proposals failed, see `PeerRegistry.markFailed`) and answers everything it still held.
 */
export const reportFailedPeer = (peer: Peer, error: RaftInvariantError): Effect.Effect<void> =>
  Effect.zipRight(
    completePeerReplies(peer),
    Effect.logError("Raft invariant broken: the region's peer is stopped, the store's other regions go on", error).pipe(
      Effect.annotateLogs({ regionId: peer.regionId, peerId: peer.id })
    )
  )
