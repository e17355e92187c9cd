/**
 * What a store's status reports and its per-store gauges show, read off its live peers: regions, leaders,
 * regions without a known leader, and the apply lag. Read between rounds (the caller is on the event
 * loop, and the RaftWorker changes peers only inside a round).
 */
import type { StoreId } from "../protocol/ids.js"
import { applyLag, leaders, regions, regionsWithoutLeader, storeLabel } from "./metrics.js"
import type { Peer } from "./peer.js"

export interface StoreSample {
  readonly regions: number
  readonly leaders: number
  readonly withoutLeader: number
  readonly applyLag: number
}

/** Reads the sample and sets the per-store gauges to it. */
export const sampleStore = (storeId: StoreId, peers: Iterable<Peer>): StoreSample => {
  let count = 0
  let leading = 0
  let withoutLeader = 0
  let lag = 0
  for (const peer of peers) {
    if (peer.stopped) continue
    count++
    if (peer.isLeader) leading++
    if (peer.rawNode.raft.lead === 0) withoutLeader++
    lag += Math.max(0, peer.rawNode.raft.raftLog.committed - peer.storage.appliedIndex)
  }
  const sample = { regions: count, leaders: leading, withoutLeader, applyLag: lag }
  const labels = storeLabel(storeId)
  regions.unsafeUpdate(sample.regions, labels)
  leaders.unsafeUpdate(sample.leaders, labels)
  regionsWithoutLeader.unsafeUpdate(sample.withoutLeader, labels)
  applyLag.unsafeUpdate(sample.applyLag, labels)
  return sample
}
