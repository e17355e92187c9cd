/**
 * Reads under the leader's lease served on the reader's own fiber, without the RaftWorker (TiKV's
 * `LocalReader`): no mailbox, no round, no reply to complete — the engine snapshot is opened here and the
 * checks the worker would make are made against it. Anything this cannot vouch for returns `undefined`,
 * and the read goes to the worker as before (`readSnapshot.ts`, `readIndexServe.ts`), which answers it,
 * refuses it with the right region error, or renews the lease.
 *
 * Why it is safe — the worker's own lease read (`Peer.leaseUntil`, `readLease.ts`) with one more check for
 * what the worker knows and the engine may not have yet:
 * - the peer is the live leader of a lease that holds, its commit index in its own term, no transfer
 *   started: no other leader can have committed anything this one has not, and everything acknowledged to
 *   anyone is at or below its commit index;
 * - the snapshot's own apply state (read from the snapshot, so it is exactly what the snapshot holds) has
 *   reached that commit index. The worker acknowledges some writes before the round's write that applies them
 *   (its early answers, `raftWorker.ts`), promising that no read sees state older than an answer: a round's
 *   applied-but-unwritten entries leave the snapshot behind the commit index, and the read goes to the worker.
 *   The applies the worker holds back (`deferredWrites.ts`) are laid over the snapshot, apply state with
 *   data: taken in the same step as the snapshot (or checked unchanged since), they and the snapshot are one
 *   state the store reached;
 * - the lease is checked again after the snapshot is open: a process paused between the checks and the
 *   snapshot must not hand out a state a newer leader may have overtaken meanwhile.
 *
 * When these hold, the snapshot's applied index equals the peer's (the engine never runs ahead of the peer),
 * so the region the peer holds is the region of the snapshot, and the request's epoch is checked against it.
 *
 * Reads nothing but the peer's fields, between two of the worker's steps (one JS task), and changes nothing.
 */
import { Effect, Either } from "effect"
import type { RaftCmdRequest } from "../protocol/raftCmd.js"
import { StorageError } from "../protocol/errorpb.js"
import type { ReadLocal, ReadLocalNow } from "../services/Router.js"
import type { EngineReader, Storage } from "../services/Storage.js"
import { RaftApplyStateCodec } from "./codec.js"
import { applyStateKey } from "./keys.js"
import { recordLocalRead } from "./metrics.js"
import { isReadOnly, type Peer } from "./peer.js"
import type { PeerRegistry } from "./peerRegistry.js"
import { checkRegionEpoch } from "./regionUtil.js"
import { okResponse } from "./responses.js"

/** Whether `request` is a read `peer` would take as it is (what `Peer.propose` checks), lease aside. */
const takes = (peer: Peer, request: RaftCmdRequest): boolean => {
  const header = request.header
  return (
    !peer.stopped &&
    peer.readPath === "readIndex" &&
    // (TEST ONLY: the simulator's `leader-reads-locally` self-test breaks the worker's path instead)
    peer.unsafeTestOnly?.leaderReadsLocally !== true &&
    isReadOnly(request) &&
    header.peer.storeId === peer.storeId &&
    header.peer.id === peer.meta.id &&
    (header.term === 0 || peer.term <= header.term + 1) &&
    // (TEST ONLY: the simulator's `apply-skips-epoch` self-test skips it here as the worker does)
    (peer.unsafeTestOnly?.applySkipsEpochCheck === true || checkRegionEpoch(request, peer.region) === undefined)
  )
}

/** Whether `peer` holds its lease now, with state applied up to `applied` covering its commit index. */
const leaseCovers = (peer: Peer, applied: number): boolean =>
  applied >= peer.rawNode.raft.raftLog.committed && peer.leaseUntil() !== undefined

/** Whether `peer` may answer `request` under its lease, from state applied up to `applied`. */
const servable = (peer: Peer, request: RaftCmdRequest, applied: number): boolean =>
  leaseCovers(peer, applied) && takes(peer, request)

/** The snapshot's applied index (what its apply state says), or -1 when it holds none for the region. */
const appliedIn = (reader: EngineReader, regionId: number): number => {
  const raw = reader.get("meta", applyStateKey(regionId))
  return raw === undefined ? -1 : RaftApplyStateCodec.decode(raw).appliedIndex
}

/** Counts a read left to `peer`'s worker. */
const toWorker = (peer: Peer): undefined => {
  recordLocalRead(peer.storeId, false)
  return undefined
}

/** The answer the worker would give to `request`, a `Snap`-only command `peer` may serve. */
const answerOf = (peer: Peer, request: RaftCmdRequest) =>
  okResponse(
    request.requests.map(() => ({ _tag: "Snap" as const, region: peer.region })),
    peer.term
  )

/** The local reader of a store: its live peers and its engine. */
export const makeLocalReader = (
  registry: Pick<PeerRegistry["Type"], "peers" | "isClosed" | "engine">,
  storage: Storage["Type"]
): { readonly read: ReadLocal; readonly readNow: ReadLocalNow } => ({
  read: (request) => {
    const regionId = request.header.regionId
    const before = registry.peers.get(regionId)
    if (before === undefined || registry.isClosed()) return Effect.succeed(undefined)
    // the cheap checks first, on the peer's own applied index: most reads that will fall back do so here
    if (!servable(before, request, before.storage.appliedIndex)) return Effect.succeed(toWorker(before))
    const generation = registry.engine.generation
    return Effect.map(Effect.either(storage.snapshot), (taken) => {
      // a write of held-back applies that landed while the snapshot was opened may be missing from it
      if (Either.isLeft(taken) || registry.engine.generation !== generation) return toWorker(before)
      // with the applies the worker holds back (`deferredWrites.ts`): its latest state, apply state included
      const reader = registry.engine.over(taken.right)
      // again, now that the snapshot is open: the same live peer, and the snapshot at its commit index
      const peer = registry.peers.get(regionId)
      if (peer !== before || registry.isClosed() || !servable(peer, request, appliedIn(reader, regionId))) {
        return toWorker(before)
      }
      recordLocalRead(peer.storeId, true)
      return { response: answerOf(peer, request), reader }
    })
  },
  readNow: (request, f) => {
    const peer = registry.peers.get(request.header.regionId)
    if (peer === undefined || registry.isClosed()) return undefined
    if (!servable(peer, request, peer.storage.appliedIndex)) return toWorker(peer)
    try {
      // one synchronous call: nothing of the store runs meanwhile (the peer and the request's checks stand), but
      // the engine may have moved and the clock has: the snapshot's apply state and the lease are checked again
      return storage.readNow((snapshot) => {
        const reader = registry.engine.over(snapshot)
        if (!leaseCovers(peer, appliedIn(reader, peer.regionId))) return toWorker(peer)
        recordLocalRead(peer.storeId, true)
        return { value: f({ response: answerOf(peer, request), reader }) }
      })
    } catch (e) {
      if (e instanceof StorageError) return toWorker(peer)
      throw e
    }
  }
})
