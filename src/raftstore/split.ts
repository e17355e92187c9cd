/**
 * Applying a split on one replica (TinyKV `execSplit`): every replica runs the same committed Split
 * through the same checks, so all of them cut the region at the same key.
 *
 * The parent keeps its id and the left half `[start, splitKey)`; the right half `[splitKey, end)` becomes
 * a new region with the id and peer ids the scheduler allotted (peer i on the store of the parent's peer
 * i). Both epochs' `version` grows by one, so a command proposed under the old epoch fails on either
 * half. The data stays where it is: the two regions' ranges simply divide the parent's keys. The new
 * region's state (region, raft and apply state at 5/5) goes into the same write as the parent's
 * narrowed range and applied index, so a crash never leaves a range without a region here.
 */
import type { PeerId } from "../protocol/ids.js"
import type { Region } from "../protocol/metapb.js"
import type { RaftCmdRequest, RaftCmdResponse, SplitRequest } from "../protocol/raftCmd.js"
import type { EngineReader, WriteOp } from "../services/Storage.js"
import { RegionLocalStateCodec } from "./codec.js"
import { regionStateKey } from "./keys.js"
import type { Peer } from "./peer.js"
import { newPeer, type PeerFactoryOptions } from "./peerLoader.js"
import type { PeerRegistry } from "./peerRegistry.js"
import { isInitialized, PeerStorage } from "./peerStorage.js"
import { checkSplit, findPeer } from "./regionUtil.js"
import { adminResponse, errorResponse } from "./responses.js"

export interface SplitOutcome {
  readonly left: Region
  readonly right: Region
}

type Split = typeof SplitRequest.Type

/** The two halves of `region` cut at the split's key. */
export const splitRegions = (region: Region, split: Split): SplitOutcome => {
  const version = region.regionEpoch.version + 1
  return {
    left: { ...region, endKey: split.splitKey, regionEpoch: { ...region.regionEpoch, version } },
    right: {
      id: split.newRegionId,
      startKey: split.splitKey,
      endKey: region.endKey,
      regionEpoch: { confVer: region.regionEpoch.confVer, version },
      peers: region.peers.map((p, i) => ({ id: split.newPeerIds[i] as PeerId, storeId: p.storeId }))
    }
  }
}

/**
 * Applies a committed Split to the parent peer: narrows it to the left half and records that in `ops`.
 * The right half's peer is made by `createSplitPeer`, which needs the store's registry.
 */
export const applySplit = (
  peer: Peer,
  req: RaftCmdRequest,
  split: Split,
  ops: Array<WriteOp>
): { readonly response: RaftCmdResponse; readonly outcome: SplitOutcome | undefined } => {
  const refusal = checkSplit(req, split, peer.region)
  if (refusal !== undefined) return { response: errorResponse(refusal, peer.term), outcome: undefined }
  const outcome = splitRegions(peer.region, split)
  peer.storage.region = outcome.left
  ops.push({
    _tag: "Put",
    space: "meta",
    key: regionStateKey(outcome.left.id),
    value: RegionLocalStateCodec.encode({ state: "Normal", region: outcome.left })
  })
  peer.splitApplied(outcome.right)
  return { response: adminResponse({ _tag: "Split", regions: [outcome.left, outcome.right] }, peer.term), outcome }
}

/**
 * Makes this store's peer of a split's right half and adds its state to `ops`, or `undefined` when the
 * store must not have one: it has no member in the region, the region was already removed from here (a
 * tombstone: it was split, then this store's peer of it removed, all before this replica caught up), or
 * a peer of it already holds data here (it arrived by snapshot). An uninitialized peer of the region —
 * created by the new region's first messages, before this replica applied the split — is replaced, and
 * its term and vote carried over.
 */
export const createSplitPeer = (
  registry: PeerRegistry["Type"],
  engine: EngineReader,
  factory: PeerFactoryOptions,
  right: Region,
  ops: Array<WriteOp>
): { readonly peer: Peer; readonly replaces: Peer | undefined } | undefined => {
  const meta = findPeer(right, registry.storeId)
  if (meta === undefined) return undefined
  const existing = registry.peers.get(right.id)
  if (existing !== undefined && isInitialized(existing.region)) return undefined
  if (existing === undefined) {
    const raw = engine.get("meta", regionStateKey(right.id))
    if (raw !== undefined && RegionLocalStateCodec.decode(raw).state === "Tombstone") return undefined
  }
  const { storage, ops: stateOps } = PeerStorage.forSplit(engine, right, existing?.storage.raftState.hardState)
  ops.push(...stateOps)
  const peer = newPeer(factory, meta, storage, false)
  peer.splitCheckSoon = true
  return { peer, replaces: existing }
}
