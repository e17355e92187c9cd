/**
 * The raftstore's metrics (exported on the status listener's `/metrics`). The round's code is synchronous,
 * so the hooks it calls update the metrics in place (`unsafeUpdate`) instead of yielding an Effect; each
 * carries the store id as the `store` label, since a test process may run several stores.
 *
 * Per-store gauges (regions, leaders, apply lag) are not updated by the round: `sampleStore`
 * (`storeSample.ts`) reads them off the live peers when the metrics are scraped.
 */
import { Metric, MetricBoundaries, MetricLabel } from "effect"
import type { StoreId } from "../protocol/ids.js"

/** 0.5 ms … ~16 s, doubling: a round, an fsync or a request on a loaded 2-core machine fits. */
export const latencyBoundaries = MetricBoundaries.exponential({ start: 0.0005, factor: 2, count: 16 })

export const proposals = Metric.counter("tinykv_raft_proposals", {
  description: "commands proposed to a Raft log by this store's leaders",
  incremental: true
})
export const rounds = Metric.counter("tinykv_raft_rounds", {
  description: "RaftWorker rounds (take a batch, step, persist and apply in one write, reply, send)",
  incremental: true
})
export const roundDuration = Metric.histogram(
  "tinykv_raft_round_duration_seconds",
  latencyBoundaries,
  "time one RaftWorker round takes, its engine write included"
)
export const snapshots = Metric.counter("tinykv_raft_snapshots", {
  description: "Raft snapshots by event: applied here, sent to or received from another store",
  incremental: true
})
export const regions = Metric.gauge("tinykv_regions", { description: "regions with a live peer on this store" })
export const leaders = Metric.gauge("tinykv_leaders", { description: "regions this store leads" })
export const applyLag = Metric.gauge("tinykv_raft_apply_lag_entries", {
  description: "committed entries not yet applied, summed over the store's peers"
})
export const regionsWithoutLeader = Metric.gauge("tinykv_regions_without_leader", {
  description: "regions of this store whose peer knows no leader (an election is running)"
})

export const diskFull = Metric.gauge("tinykv_store_disk_full", {
  description: "1 while the store refuses client writes for want of disk space (see docs/OPERATIONS.md)"
})

/**
 * The `store` label, one array per store: Effect caches a metric's tagged hook by the identity of the
 * label array, so a fresh array per update built a new metric key (and hashed it) every time — about 3 %
 * of a store's CPU under load (docs/PERFORMANCE.md).
 */
const storeLabels = new Map<StoreId, ReadonlyArray<MetricLabel.MetricLabel>>()
export const storeLabel = (storeId: StoreId): ReadonlyArray<MetricLabel.MetricLabel> => {
  let labels = storeLabels.get(storeId)
  if (labels === undefined) {
    labels = [MetricLabel.make("store", String(storeId))]
    storeLabels.set(storeId, labels)
  }
  return labels
}

const snapshotLabels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()

/** A peer proposed a command (a client's or its own). */
export const recordProposal = (storeId: StoreId): void => proposals.unsafeUpdate(1, storeLabel(storeId))

/** A snapshot was applied here, or sent / received by the transport. */
export const recordSnapshot = (storeId: StoreId, event: "applied" | "sent" | "received"): void => {
  const key = `${storeId}/${event}`
  let labels = snapshotLabels.get(key)
  if (labels === undefined) {
    labels = [...storeLabel(storeId), MetricLabel.make("event", event)]
    snapshotLabels.set(key, labels)
  }
  snapshots.unsafeUpdate(1, labels)
}

/** One round done, in `seconds`. */
export const recordRound = (storeId: StoreId, seconds: number): void => {
  rounds.unsafeUpdate(1, storeLabel(storeId))
  roundDuration.unsafeUpdate(seconds, storeLabel(storeId))
}

export const localReads = Metric.counter("tinykv_raft_local_reads", {
  description:
    "reads a leader answered under its lease on the reader's fiber (outcome=served), or left to its worker (outcome=worker)",
  incremental: true
})
const localReadLabels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()

/** A read the local reader served (`served`) or left to the worker. */
export const recordLocalRead = (storeId: StoreId, served: boolean): void => {
  const key = `${storeId}/${served}`
  let labels = localReadLabels.get(key)
  if (labels === undefined) {
    labels = [...storeLabel(storeId), MetricLabel.make("outcome", served ? "served" : "worker")]
    localReadLabels.set(key, labels)
  }
  localReads.unsafeUpdate(1, labels)
}
