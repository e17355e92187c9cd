/**
 * The scheduler's own metrics, beside its request metrics (which count heartbeats and TSO calls): operator
 * events, timestamps handed out, and gauges of the cluster it sees, set by `sampleCluster` before each
 * scrape.
 */
import { Metric, MetricLabel } from "effect"
import type { OperatorKind, OperatorStatus, StoreStatus } from "../protocol/scheduler.js"

type OperatorStatusName = typeof OperatorStatus.Type

const operatorEvents = Metric.counter("tinykv_scheduler_operators", {
  description: "operators by kind and event: started (RUNNING) or finished (SUCCESS, TIMEOUT, CANCEL, REPLACE)",
  incremental: true
})
const timestamps = Metric.counter("tinykv_scheduler_tso_timestamps", {
  description: "timestamps handed out by the TSO",
  incremental: true
})
const stores = Metric.gauge("tinykv_scheduler_stores", { description: "stores the scheduler knows, by state" })
const regions = Metric.gauge("tinykv_scheduler_regions", { description: "regions the scheduler knows" })
const runningOperators = Metric.gauge("tinykv_scheduler_running_operators", {
  description: "operators running now"
})

export const recordOperatorEvent = (kind: OperatorKind, status: OperatorStatusName): void =>
  operatorEvents.unsafeUpdate(1, [MetricLabel.make("kind", kind), MetricLabel.make("event", status)])

export const recordTimestamps = (count: number): void => timestamps.unsafeUpdate(count, [])

const STATES: ReadonlyArray<StoreStatus> = ["Up", "Disconnected", "Down", "Offline", "Tombstone"]

/** Sets the cluster gauges: every store state is reported, zero included, so a series never vanishes. */
export const sampleCluster = (sample: {
  readonly storeStates: ReadonlyArray<StoreStatus>
  readonly regions: number
  readonly runningOperators: number
}): void => {
  for (const state of STATES) {
    const n = sample.storeStates.filter((s) => s === state).length
    stores.unsafeUpdate(n, [MetricLabel.make("state", state)])
  }
  regions.unsafeUpdate(sample.regions, [])
  runningOperators.unsafeUpdate(sample.runningOperators, [])
}
