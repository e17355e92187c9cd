/**
 * What the coordinator decides with: replica count, when a silent store counts as gone, and how
 * many operators may run at once. Defaults follow PD/TinyKV; the reasons are next to each.
 */

export interface ScheduleConfig {
  /** Replicas per region (TinyKV `MaxReplicas`). */
  readonly maxReplicas: number
  /**
   * A store silent this long is Down: its replicas are replaced elsewhere. PD's 30 minutes: a
   * restart or a short network partition must not trigger moving every replica it holds.
   */
  readonly maxStoreDownTimeMs: number
  /**
   * A store silent this long is Disconnected: kept as a replica holder, but no new replica or
   * leader is sent to it. PD's 20 s: 8 missed store heartbeats at the stores' 2.5 s interval
   * (2 at TinyKV's 10 s), so one late heartbeat (GC pause, busy event loop) does not flap it.
   */
  readonly storeDisconnectMs: number
  /**
   * Concurrent balance-leader operators (PD `leader-schedule-limit`). 16 rather than PD's 4: a transfer
   * moves no data (one election round in the region), and the coordinator fills this limit each pass, so
   * it is the rate at which a skewed cluster's leaders spread.
   */
  readonly leaderScheduleLimit: number
  /** Concurrent balance-region operators (PD/TinyKV `region-schedule-limit` 4 in the old default). */
  readonly regionScheduleLimit: number
  /** Concurrent replica-checker operators (PD `replica-schedule-limit`). */
  readonly replicaScheduleLimit: number
  /**
   * Concurrent coordinator operators adding or removing a replica on one store (PD's store limit).
   * A replica move costs the target a snapshot of the region; a handful at once keeps a recovering
   * store from being flooded. Leader transfers move no data and do not count.
   */
  readonly storeLimit: number
}

export const defaultScheduleConfig: ScheduleConfig = {
  maxReplicas: 3,
  maxStoreDownTimeMs: 30 * 60 * 1000,
  storeDisconnectMs: 20 * 1000,
  leaderScheduleLimit: 16,
  regionScheduleLimit: 4,
  replicaScheduleLimit: 64,
  storeLimit: 4
}

/**
 * How often the coordinator looks at the cluster. 1 s: twice the region heartbeat interval (500 ms),
 * so what the last operators did is usually reported before the next decision (in-flight operators
 * are accounted for anyway, see `view.ts`), and a newly Down store is acted on within a second.
 */
export const DEFAULT_SCHEDULE_INTERVAL_MS = 1000
