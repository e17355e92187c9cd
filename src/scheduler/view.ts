/**
 * The snapshot the checkers decide on: every store with its status and its region/leader load as it
 * will be once the running operators finish (PD's "operator influence"), the regions, and which
 * regions and stores are already busy. Pure data, so each checker is a pure function of it.
 *
 * Without the influence, a pass made before the last operators' effects are reported would see the
 * same fullest and emptiest stores again and pile more moves onto the same pair.
 */
import type { StoreId } from "../protocol/ids.js"
import type { OperatorKind, StoreStatus } from "../protocol/scheduler.js"
import type { ScheduleConfig } from "./config.js"
import { type Operator, storesMovingReplicas } from "./operator.js"
import type { RegionInfo } from "./regionInfo.js"
import { storeStatus } from "./storeState.js"
import type { StoreInfo } from "./stores.js"

export interface StoreView {
  readonly id: StoreId
  readonly status: StoreStatus
  /** Counts and sizes (MiB) with the running operators' remaining steps applied. */
  readonly regionCount: number
  readonly leaderCount: number
  readonly regionSize: number
  /** Running coordinator operators whose remaining steps add or remove a replica on this store. */
  readonly operatorCount: number
}

export interface ClusterView {
  readonly config: ScheduleConfig
  /** By id, in id order. */
  readonly stores: ReadonlyMap<number, StoreView>
  /** In key order. */
  readonly regions: ReadonlyArray<RegionInfo>
  /** Regions with a running operator: never given a second one. */
  readonly busyRegions: ReadonlySet<number>
  /** Running operators per kind. */
  readonly running: ReadonlyMap<OperatorKind, number>
}

interface Mutable {
  regionCount: number
  leaderCount: number
  regionSize: number
  operatorCount: number
}

export const buildView = (
  config: ScheduleConfig,
  stores: ReadonlyArray<StoreInfo>,
  regions: ReadonlyArray<RegionInfo>,
  operators: ReadonlyMap<number, Operator>,
  nowMs: number,
  sinceMs: number
): ClusterView => {
  const load = new Map<number, Mutable>()
  for (const s of stores) {
    load.set(s.store.id, {
      regionCount: s.regionCount,
      leaderCount: s.leaderCount,
      regionSize: s.regionSize,
      operatorCount: 0
    })
  }
  const byId = new Map<number, RegionInfo>(regions.map((r) => [r.region.id, r]))
  const running = new Map<OperatorKind, number>()
  for (const [regionId, op] of operators) {
    running.set(op.kind, (running.get(op.kind) ?? 0) + 1)
    const size = byId.get(regionId)?.approximateSize ?? 1
    // the store limit is for replica moves (each costs its target a snapshot); a leader transfer moves no data
    if (op.kind !== "admin") for (const id of storesMovingReplicas(op)) if (load.has(id)) load.get(id)!.operatorCount++
    for (const step of op.steps.slice(op.next)) {
      const to = step._tag === "AddPeer" || step._tag === "TransferLeader" ? load.get(step.toStore) : undefined
      const from = step._tag === "RemovePeer" || step._tag === "TransferLeader" ? load.get(step.fromStore) : undefined
      if (step._tag === "TransferLeader") {
        if (from !== undefined) from.leaderCount--
        if (to !== undefined) to.leaderCount++
      } else {
        if (to !== undefined) {
          to.regionCount++
          to.regionSize += size
        }
        if (from !== undefined) {
          from.regionCount--
          from.regionSize -= size
        }
      }
    }
  }
  const views = new Map<number, StoreView>()
  for (const s of [...stores].sort((a, b) => a.store.id - b.store.id)) {
    views.set(s.store.id, { id: s.store.id, status: storeStatus(s, nowMs, sinceMs, config), ...load.get(s.store.id)! })
  }
  return { config, stores: views, regions, busyRegions: new Set(operators.keys()), running }
}

/** Whether another operator of `kind` may start (its per-kind limit). */
export const underLimit = (view: ClusterView, kind: OperatorKind): boolean => {
  const limit =
    kind === "replica"
      ? view.config.replicaScheduleLimit
      : kind === "balance-leader"
        ? view.config.leaderScheduleLimit
        : kind === "balance-region"
          ? view.config.regionScheduleLimit
          : Number.POSITIVE_INFINITY
  return (view.running.get(kind) ?? 0) < limit
}

/** Whether a store may take part in one more coordinator operator that moves a replica. */
export const storeHasRoom = (view: ClusterView, store: StoreView): boolean =>
  store.operatorCount < view.config.storeLimit

/** What a checker wants done to one region. */
export interface Proposal {
  readonly regionId: number
  readonly kind: OperatorKind
  readonly desc: string
  readonly steps: ReadonlyArray<import("./operator.js").OperatorStep>
}

/** Peer ids come from the scheduler's allocator; tests pass a counter. */
export type NewPeerId = () => import("../protocol/ids.js").PeerId
