/**
 * Everything the scheduler knows about the cluster at one moment — stores with their details, regions
 * with leader and size, operators — read through the service's own calls (so under its lock, each call
 * consistent with the engine). The dashboard shows it; the status listener's gauges count it.
 */
import { Effect } from "effect"
import type { OperatorInfo, RegionDetail, StoreDetail } from "../protocol/scheduler.js"
import type { Scheduler } from "./service.js"

export interface ClusterSnapshot {
  readonly clusterId: number
  readonly bootstrapped: boolean
  readonly stores: ReadonlyArray<StoreDetail>
  readonly regions: ReadonlyArray<RegionDetail>
  readonly operators: ReadonlyArray<OperatorInfo>
}

export const clusterSnapshot = (scheduler: Scheduler["Type"]): Effect.Effect<ClusterSnapshot> =>
  Effect.gen(function* () {
    const header = { clusterId: scheduler.clusterId }
    const { bootstrapped } = yield* scheduler
      .isBootstrapped({ header })
      .pipe(Effect.orElseSucceed(() => ({ bootstrapped: false })))
    if (!bootstrapped) return { clusterId: scheduler.clusterId, bootstrapped, stores: [], regions: [], operators: [] }
    const empty = new Uint8Array(0)
    // each read fails only when the cluster is not bootstrapped, which it is by now
    const stores = yield* scheduler.getAllStores({ header, excludeTombstoneStores: false }).pipe(
      Effect.map((r) => r.details ?? []),
      Effect.orElseSucceed(() => [])
    )
    const regions = yield* scheduler.scanRegionDetails({ header, startKey: empty, endKey: empty, limit: 0 }).pipe(
      Effect.map((r) => r.regions),
      Effect.orElseSucceed(() => [])
    )
    const operators = yield* scheduler.listOperators({ header }).pipe(
      Effect.map((r) => r.operators),
      Effect.orElseSucceed(() => [])
    )
    return { clusterId: scheduler.clusterId, bootstrapped, stores, regions, operators }
  })
