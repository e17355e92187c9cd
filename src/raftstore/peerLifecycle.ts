/**
 * The end of a peer's life on this store, run by the RaftWorker (the peer's owner): destroying a removed
 * peer (TinyKV `destroyPeer`), and stopping a peer that broke a Raft invariant.
 *
 * Destroying is two halves. `destroyOps` adds the peer's tombstone, the deletion of its Raft state and log
 * and the clearing of its data to the round's op list — the same write as the apply of its own RemoveNode,
 * so no crash can leave a region state that says "Normal" without this store in it (such a state blocks
 * re-adding the store for good: the loader skips it and the StoreWorker will not create a peer over it).
 * `finishDestroy` runs after that write: it unregisters the peer and answers what it still held.
 */
import { Deferred, Effect } from "effect"
import type { RaftInvariantError } from "../raft/index.js"
import type { WriteOp } from "../services/Storage.js"
import { RegionLocalStateCodec } from "./codec.js"
import { regionStateKey } from "./keys.js"
import type { Peer } from "./peer.js"
import type { PeerRegistry } from "./peerRegistry.js"
import { clearRangeOps, isInitialized } from "./peerStorage.js"

/** Completes every reply a stopped peer still holds (its own errors and its failed proposals). */
export const completePeerReplies = (peer: Peer): Effect.Effect<void> =>
  Effect.suspend(() => {
    const replies = peer.replies
    peer.replies = []
    return Effect.forEach(replies, ([d, r]) => Deferred.succeed(d, r), { discard: true })
  })

/**
 * The ops that erase the peer from this store: its Raft log and states go, its data range is cleared, and
 * its region state becomes a Tombstone of the region as it last knew it (after its own removal, if it
 * applied it: the tombstone's epoch is what stale messages for the region are judged against).
 */
export const destroyOps = (peer: Peer, ops: Array<WriteOp>): void => {
  peer.storage.clearMetaOps(ops)
  ops.push({
    _tag: "Put",
    space: "meta",
    key: regionStateKey(peer.regionId),
    value: RegionLocalStateCodec.encode({ state: "Tombstone", region: peer.region })
  })
  if (isInitialized(peer.region)) ops.push(...clearRangeOps(peer.region))
}

/**
 * After the write that carried `destroyOps`: unregisters the peer (the Router refuses it from this
 * instant) and answers its waiting proposals with RegionNotFound.
 */
export const finishDestroy = (registry: PeerRegistry["Type"], peer: Peer): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (peer.stopped) return
    registry.remove(peer)
    peer.failAllProposals()
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
    Effect.logError(
      `Raft invariant broken: the region's peer is stopped, the store's other regions go on (${error.message})`,
      error
    ).pipe(Effect.annotateLogs({ regionId: peer.regionId, peerId: peer.id }))
  )
