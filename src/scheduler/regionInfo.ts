/**
 * What the scheduler knows about one region: its meta (range, epoch, peers) as last reported, plus
 * the leader, pending peers and approximate size from the latest heartbeat (TinyKV `core.RegionInfo`).
 * Immutable: a heartbeat builds a new one.
 */
import { bytesEqual } from "../protocol/bytes.js"
import type { Peer, Region, RegionEpoch } from "../protocol/metapb.js"

export interface RegionInfo {
  readonly region: Region
  readonly leader: Peer | undefined
  readonly pendingPeers: ReadonlyArray<Peer>
  /** MiB, at least 1 (TinyKV `EmptyRegionApproximateSize`): what balance decisions compare. */
  readonly approximateSize: number
}

const MIB = 1024 * 1024

/** Bytes as reported by a store ⇒ MiB, rounded down, at least 1 (TinyKV `RegionFromHeartbeat`). */
export const sizeInMiB = (bytes: number): number => Math.max(1, Math.floor(bytes / MIB))

export const regionInfo = (
  region: Region,
  leader?: Peer,
  pendingPeers: ReadonlyArray<Peer> = [],
  approximateSizeBytes = 0
): RegionInfo => ({ region, leader, pendingPeers, approximateSize: sizeInMiB(approximateSizeBytes) })

/** True when `epoch` is older than `than` in either dimension (Version OR ConfVer lower). */
export const isEpochStale = (epoch: RegionEpoch, than: RegionEpoch): boolean =>
  epoch.version < than.version || epoch.confVer < than.confVer

const samePeers = (a: ReadonlyArray<Peer>, b: ReadonlyArray<Peer>): boolean =>
  a.length === b.length && a.every((p, i) => p.id === b[i]!.id && p.storeId === b[i]!.storeId)

/** Range, epoch and peers: the part of a region worth persisting (leader and size are soft state). */
export const sameMeta = (a: Region, b: Region): boolean =>
  a.id === b.id &&
  bytesEqual(a.startKey, b.startKey) &&
  bytesEqual(a.endKey, b.endKey) &&
  a.regionEpoch.version === b.regionEpoch.version &&
  a.regionEpoch.confVer === b.regionEpoch.confVer &&
  samePeers(a.peers, b.peers)

/** Everything a heartbeat can change (TinyKV's optional "skip when nothing changed" check). */
export const sameInfo = (a: RegionInfo, b: RegionInfo): boolean =>
  sameMeta(a.region, b.region) &&
  a.leader?.id === b.leader?.id &&
  a.leader?.storeId === b.leader?.storeId &&
  a.approximateSize === b.approximateSize &&
  samePeers(a.pendingPeers, b.pendingPeers)

/**
 * A report that no correct store can produce, or `undefined`: one conf change adds or removes exactly
 * one peer and bumps ConfVer by one, and peers never change without a ConfVer bump. TinyKV's mock
 * scheduler panics on these; we log them, or fail hard in strict mode (tests).
 */
export const confChangeAnomaly = (origin: Region, region: Region): string | undefined => {
  const before = new Set(origin.peers.map((p) => p.id))
  const after = new Set(region.peers.map((p) => p.id))
  const added = region.peers.filter((p) => !before.has(p.id)).length
  const removed = origin.peers.filter((p) => !after.has(p.id)).length
  const confDelta = region.regionEpoch.confVer - origin.regionEpoch.confVer
  if (confDelta === 0 && added + removed > 0) {
    return `region ${region.id}: peers changed (+${added} -${removed}) without a ConfVer bump`
  }
  if (confDelta === 1 && added + removed !== 1) {
    return `region ${region.id}: ConfVer +1 but peers changed by +${added} -${removed} (expected exactly one)`
  }
  return undefined
}
