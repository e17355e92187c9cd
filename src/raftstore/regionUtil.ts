/** Region helpers (TinyKV `kv/raftstore/util`): key ranges, epochs, initial messages. */
import { bytesEqual, compareBytes } from "../protocol/bytes.js"
import type { Message } from "../protocol/eraftpb.js"
import { EpochNotMatch, KeyNotInRegion, type RegionError } from "../protocol/errorpb.js"
import { type KeySpace, localKeyInRange, userKeyOf } from "../protocol/keyspace.js"
import type { Peer, Region, RegionEpoch } from "../protocol/metapb.js"
import type { RaftCmdRequest, SplitRequest } from "../protocol/raftCmd.js"
import { RAFT_INIT_LOG_TERM } from "./keys.js"

/** `start <= key < end`, with an empty end meaning unbounded. */
export const keyInRegion = (key: Uint8Array, region: Region): boolean =>
  compareBytes(key, region.startKey) >= 0 && (region.endKey.length === 0 || compareBytes(key, region.endKey) < 0)

/** A user key outside the region's bounds. */
export const checkKeyInRegion = (key: Uint8Array, region: Region): KeyNotInRegion | undefined =>
  keyInRegion(key, region)
    ? undefined
    : new KeyNotInRegion({ key, regionId: region.id, startKey: region.startKey, endKey: region.endKey })

/**
 * Whether a data request's key belongs to the region. The key is local to the request's key space and
 * may be an MVCC key, which never compares with the user-key bounds directly (`protocol/keyspace.ts`).
 */
export const checkRequestInRegion = (
  r: { readonly cf: string; readonly key: Uint8Array; readonly space?: KeySpace | undefined },
  region: Region
): KeyNotInRegion | undefined => {
  const space = r.space ?? "raw"
  if (localKeyInRange(r.key, region, space, r.cf)) return undefined
  const key = userKeyOf(r.key, space, r.cf) ?? r.key
  return new KeyNotInRegion({ key, regionId: region.id, startKey: region.startKey, endKey: region.endKey })
}

/** Whether `epoch` is older than `check` in either part. */
export const isEpochStale = (epoch: RegionEpoch, check: RegionEpoch): boolean =>
  epoch.version < check.version || epoch.confVer < check.confVer

/**
 * The epoch check of a command against the region (TinyKV `CheckRegionEpoch`): data commands check the
 * version; ChangePeer the conf version; Split and TransferLeader both; CompactLog neither.
 */
export const checkRegionEpoch = (req: RaftCmdRequest, region: Region): EpochNotMatch | undefined => {
  const admin = req.adminRequest
  let checkVer = true
  let checkConfVer = false
  if (admin !== undefined) {
    checkVer = admin._tag === "Split" || admin._tag === "TransferLeader"
    checkConfVer = admin._tag !== "CompactLog"
  }
  const epoch = req.header.regionEpoch
  const current = region.regionEpoch
  if ((checkVer && epoch.version !== current.version) || (checkConfVer && epoch.confVer !== current.confVer)) {
    return new EpochNotMatch({ currentRegions: [region] })
  }
  return undefined
}

/** A message that may create a peer on a store that has none: a vote or pre-vote, or a heartbeat from a leader with commit 0. */
export const isInitialMsg = (m: Message): boolean =>
  m.msgType === "MsgRequestVote" || m.msgType === "MsgPreVote" || (m.msgType === "MsgHeartbeat" && m.commit === 0)

export const isFirstVoteMessage = (m: Message): boolean =>
  m.msgType === "MsgRequestVote" && m.term === RAFT_INIT_LOG_TERM + 1

export const findPeer = (region: Region, storeId: number): Peer | undefined =>
  region.peers.find((p) => p.storeId === storeId)

/** A half-open key range; an empty end is unbounded. */
export interface KeyRange {
  readonly startKey: Uint8Array
  readonly endKey: Uint8Array
}

/** Whether two ranges are the same keys. */
export const sameRange = (a: KeyRange, b: KeyRange): boolean =>
  bytesEqual(a.startKey, b.startKey) && bytesEqual(a.endKey, b.endKey)

/** Whether two half-open ranges overlap (empty end = unbounded). */
export const rangesOverlap = (a: KeyRange, b: KeyRange): boolean =>
  (a.endKey.length === 0 || compareBytes(b.startKey, a.endKey) < 0) &&
  (b.endKey.length === 0 || compareBytes(a.startKey, b.endKey) < 0)

/**
 * Why a Split must not cut `region` (TinyKV `validateSplitRegion` and the apply-time checks), or
 * `undefined`: it was proposed under another epoch, its key is not strictly inside the region, or it does
 * not name one new peer per member.
 */
export const checkSplit = (
  req: RaftCmdRequest,
  split: typeof SplitRequest.Type,
  region: Region
): RegionError | undefined => {
  const epochError = checkRegionEpoch(req, region)
  if (epochError !== undefined) return epochError
  if (!keyInRegion(split.splitKey, region) || compareBytes(split.splitKey, region.startKey) <= 0) {
    return new KeyNotInRegion({
      key: split.splitKey,
      regionId: region.id,
      startKey: region.startKey,
      endKey: region.endKey
    })
  }
  if (split.newPeerIds.length !== region.peers.length) return new EpochNotMatch({ currentRegions: [region] })
  return undefined
}
