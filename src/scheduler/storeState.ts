/**
 * A store's status as the scheduler sees it now (PD `StoreInfo.IsUp/IsDisconnected/DownTime`): the
 * admin state (Offline, Tombstone) plus how long the store has been silent.
 */
import type { StoreDetail, StoreStatus } from "../protocol/scheduler.js"
import type { StoreId } from "../protocol/ids.js"
import type { ScheduleConfig } from "./config.js"
import { type Operator, storesTouched } from "./operator.js"
import type { StoreInfo } from "./stores.js"

/**
 * `sinceMs` is when the scheduler started: heartbeat times are soft state, so a store not heard
 * from since a scheduler restart is silent since then, not since 1970 — otherwise restarting the
 * scheduler would declare every store Down at once and start replacing all replicas.
 */
export const silentForMs = (info: Pick<StoreInfo, "lastHeartbeatMs">, nowMs: number, sinceMs: number): number =>
  Math.max(0, nowMs - Math.max(info.lastHeartbeatMs, sinceMs))

export const storeStatus = (
  info: Pick<StoreInfo, "store" | "lastHeartbeatMs">,
  nowMs: number,
  sinceMs: number,
  config: Pick<ScheduleConfig, "maxStoreDownTimeMs" | "storeDisconnectMs">
): StoreStatus => {
  if (info.store.state === "Tombstone") return "Tombstone"
  const silent = silentForMs(info, nowMs, sinceMs)
  // Down wins over Offline: a draining store that died is as gone as any other
  if (silent >= config.maxStoreDownTimeMs) return "Down"
  if (info.store.state === "Offline") return "Offline"
  return silent >= config.storeDisconnectMs ? "Disconnected" : "Up"
}

/** Whether a replica on a store with this status still counts towards the region's replicas. */
export const holdsLiveReplica = (status: StoreStatus | undefined): boolean =>
  status !== undefined && status !== "Down" && status !== "Tombstone"

/** What tools see of a store (`GetAllStores` details). */
export const toStoreDetail = (s: StoreInfo, status: StoreStatus): StoreDetail => ({
  store: s.store,
  status,
  ...(s.stats === undefined ? {} : { stats: s.stats }),
  lastHeartbeatMs: s.lastHeartbeatMs,
  regionCount: s.regionCount,
  leaderCount: s.leaderCount,
  pendingPeerCount: s.pendingPeerCount,
  regionSize: s.regionSize,
  leaderSize: s.leaderSize
})

/** Offline stores that are done draining (PD): no replica left and none on the way. They become Tombstones. */
export const drainedStores = (
  stores: ReadonlyArray<StoreInfo>,
  running: Iterable<Operator>
): ReadonlyArray<StoreId> => {
  const busy = new Set([...running].flatMap(storesTouched))
  return stores
    .filter((s) => s.store.state === "Offline" && s.regionCount === 0 && !busy.has(s.store.id))
    .map((s) => s.store.id)
}
