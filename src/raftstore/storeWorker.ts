/**
 * The StoreWorker (TinyKV `store_worker.go` `onRaftMessage` / `maybeCreatePeer`): Raft messages for
 * regions without a live peer on this store. An initial message (a vote, or a leader's first heartbeat)
 * creates an uninitialized peer that the leader's snapshot will fill; a message for a region this store
 * has a tombstone of is dropped (and a removed peer still campaigning is told so); a message for a region
 * whose peer failed here is dropped (it must not come back as a fresh, empty peer); anything else is
 * dropped — Raft retries, and the peer appears with the next initial message. On a store out of disk
 * space (`Storage.diskFull`, or the peer's first write finding no room) no peer is created: the message is
 * dropped, and the leader's next one creates it once there is room.
 */
import { Effect } from "effect"
import type { DiskFull, StorageError } from "../protocol/errorpb.js"
import type { StoreId } from "../protocol/ids.js"
import type { Region } from "../protocol/metapb.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import type { Storage } from "../services/Storage.js"
import type { StoreWorkerVerdict } from "../services/StoreWorker.js"
import type { Transport } from "../services/Transport.js"
import { RegionLocalStateCodec } from "./codec.js"
import { regionStateKey } from "./keys.js"
import type { Peer } from "./peer.js"
import { isRemovedPeerAlive, tombstoneNotice } from "./peerHandlers.js"
import type { RegionRanges } from "./regionRanges.js"
import { findPeer, isEpochStale, isInitialMsg } from "./regionUtil.js"

export interface StoreWorkerContext {
  readonly storeId: StoreId
  readonly storage: Storage["Type"]
  readonly transport: Transport["Type"]
  readonly peers: ReadonlyMap<number, Peer>
  /** The live initialized peers' key ranges (`PeerRegistry.ranges`). */
  readonly ranges: RegionRanges<Peer>
  /** Regions whose peer broke a Raft invariant and stays down until the store restarts. */
  readonly failed: ReadonlyMap<number, unknown>
  /** Creates, persists and registers an uninitialized peer for `region` (no peers, no range). */
  readonly createPeer: (region: Region, message: RaftMessage) => Effect.Effect<void, StorageError | DiskFull>
  /** Re-delivers a message to its (now registered) peer. */
  readonly redeliver: (message: RaftMessage) => Effect.Effect<void>
}

export const onStoreRaftMessage = (
  ctx: StoreWorkerContext,
  m: RaftMessage
): Effect.Effect<StoreWorkerVerdict, StorageError> =>
  Effect.gen(function* () {
    if (ctx.failed.has(m.regionId)) return "failed"
    if (ctx.peers.has(m.regionId)) {
      yield* ctx.redeliver(m) // registered meanwhile
      return "redelivered"
    }
    if (m.toPeer.storeId !== ctx.storeId || m.isTombstone) return "not-for-us"
    const raw = ctx.storage.latest.get("meta", regionStateKey(m.regionId))
    if (raw !== undefined) {
      const local = RegionLocalStateCodec.decode(raw)
      if (local.state !== "Tombstone") return "not-for-us" // a region on disk without a live peer: not ours to recreate
      if (isEpochStale(m.regionEpoch, local.region.regionEpoch)) {
        // a removed peer still campaigning or leading: tell it to destroy itself — unless its store is still a member
        // as of our tombstone (then it is a live member that has not yet applied our removal, and must not
        // be told to erase itself)
        const notMember = findPeer(local.region, m.fromPeer.storeId) === undefined
        if (notMember && isRemovedPeerAlive(m.message.msgType)) {
          // interruptible: the worker runs this uninterruptibly, but a transport may fork delivery fibers here
          yield* Effect.interruptible(ctx.transport.send([tombstoneNotice(m, local.region.regionEpoch)]))
        }
        return "tombstone"
      }
      // same membership as when this store's peer was removed: the message is from that era
      if (m.regionEpoch.confVer === local.region.regionEpoch.confVer) return "tombstone"
    }
    if (!isInitialMsg(m.message)) return "not-initial"
    if (m.startKey !== undefined && m.endKey !== undefined) {
      if (ctx.ranges.overlapping({ startKey: m.startKey, endKey: m.endKey }) !== undefined) return "overlaps"
    }
    if (ctx.storage.diskFull() !== undefined) return "disk-full"
    const created = yield* ctx
      .createPeer(
        {
          id: m.regionId,
          startKey: new Uint8Array(),
          endKey: new Uint8Array(),
          regionEpoch: { confVer: 0, version: 0 },
          peers: []
        },
        m
      )
      .pipe(
        Effect.as(true),
        Effect.catchTag("DiskFull", () => Effect.succeed(false))
      )
    if (!created) return "disk-full"
    yield* ctx.redeliver(m)
    return "created"
  })
