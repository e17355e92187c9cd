/**
 * How a linearizable read (a `Snap`-only command) is served on the leader: `"readIndex"` asks the Raft core for a
 * read index (a heartbeat round to a quorum, nothing appended; `readQueue.ts`), `"log"` proposes the `Snap` as a
 * log entry and answers when it applies (replicated, fsynced). Both are linearizable; `"log"` is the older path.
 */
export type ReadPath = "readIndex" | "log"

/**
 * Raftstore settings (TinyKV `kv/config`), in ticks of `baseTickMs`. Defaults are the production ones;
 * `testConfig` shortens everything the way TinyKV's `NewTestConfig` does (50 ms ticks).
 */
export interface StoreConfig {
  /** One Raft tick. */
  readonly baseTickMs: number
  readonly electionTicks: number
  readonly heartbeatTicks: number
  /**
   * Peers poll for votes before campaigning (Raft `Config.preVote`): a store cut off and healed, or restarted,
   * cannot depose a leader that the rest of the region still hears.
   */
  readonly preVote: boolean
  /**
   * A leader that has not heard from a quorum within an election timeout steps down, and a peer that hears its
   * leader ignores vote requests meanwhile (Raft `Config.checkQuorum`).
   */
  readonly checkQuorum: boolean
  /**
   * Followers learn a new commit index from the leader's next append or heartbeat, not from an append sent for it
   * alone (Raft `Config.lazyCommit`): their applying lags by at most `heartbeatTicks`, and a write costs about
   * half the messages when writes come one at a time (docs/PERFORMANCE.md, "Commit indexes without a message of
   * their own").
   */
  readonly lazyCommit: boolean
  /** How often a leader checks whether its log should be compacted. */
  readonly raftLogGcTicks: number
  /**
   * Compact, up to the last entry every member holds, once at least this many such applied entries are in the
   * log (TiKV's `raft-log-gc-threshold`): a region whose members keep up keeps a short log, in memory (where every
   * entry not compacted stays, `raft/raftLog.ts`) and on disk. It never makes a member need a snapshot; the
   * count and size limits below bound the log when one lags.
   */
  readonly raftLogGcThreshold: number
  /**
   * Below the threshold, GC ticks a leader keeps the replicated entries before compacting them anyway (TiKV's
   * `raft-log-reserve-max-ticks`). A region written a few times and then left kept those entries in memory
   * for good (1M keys over 2,000 regions: ~340 MiB of entry data per store). A region whose members all hold
   * its whole log compacts at the next GC tick: it is about to hibernate, and would stop ticking with them.
   */
  readonly raftLogReserveMaxTicks: number
  /** Compact when at least this many applied entries are in the log, however far a member lags. */
  readonly raftLogGcCountLimit: number
  /**
   * Compact when the applied entries in the log hold at least this many bytes of commands (TiKV's
   * `raft-log-gc-size-limit`): every entry not compacted is in memory (`raft/raftLog.ts`), so this, with the
   * count, bounds a region's log in memory however long a follower lags — one that falls behind the
   * compaction catches up from a snapshot.
   */
  readonly raftLogGcSizeLimit: number
  /** How often a region leader considers reporting to the scheduler: it does when its report changed. */
  readonly regionHeartbeatTicks: number
  /**
   * How often a leader whose report has not changed reports anyway (PD's region heartbeat interval): the
   * scheduler's new operators for a quiet region go out with this report. See `heartbeatThrottle.ts`.
   */
  readonly regionHeartbeatIdleTicks: number
  /** How often the store reports its stats to the scheduler. */
  readonly storeHeartbeatTicks: number
  /** How long a client command may wait for its entry to apply before the store answers ServerIsBusy. */
  readonly commandTimeoutMs: number
  /** How often a leader considers measuring its region for a split (when enough was written since). */
  readonly splitCheckTicks: number
  /** A region that is split is cut into pieces of about this many bytes (keys + values, every CF). */
  readonly regionSplitSize: number
  /** A region is split once it holds more than this many bytes. */
  readonly regionMaxSize: number
  /** How linearizable reads are served (see `ReadPath`). */
  readonly readPath: ReadPath
  /**
   * With `readPath: "readIndex"` and `checkQuorum`: a leader that a quorum confirmed lately answers reads
   * without asking it again, for `electionTicks - 2` ticks after it asked (`readLease.ts`).
   */
  readonly leaseReads: boolean
  /**
   * Hibernate regions (TiKV's): a region with nothing pending goes quiet — its leader stops heartbeating, its
   * followers stop counting election ticks, and the store stops ticking its peers — until something wakes it
   * (`hibernate.ts`). Off: every peer is ticked every `baseTickMs`.
   */
  readonly hibernateRegions: boolean
  /**
   * How often a hibernating leader checks in with its followers and reports its region to the scheduler. A
   * hibernating follower that has heard no check-in for twice this (plus an election timeout) wakes and looks
   * for its leader; a leader store that dies is noticed much sooner, by its silence (`hibernate.ts`).
   */
  readonly hibernateCheckInTicks: number
  /** TEST ONLY: deliberate bugs, for the simulator's self-test (see `UnsafeTestOnly`). Absent: none. */
  readonly unsafeTestOnly?: UnsafeTestOnly
}

/**
 * TEST ONLY. Deliberately broken behaviours, switched on by the simulator (`npm run sim -- --broken ...`)
 * to show that its checks catch them. Nothing outside `src/testing/` sets these; every one defaults off.
 */
export interface UnsafeTestOnly {
  /**
   * Commands take effect without their region epoch checked where they do: apply runs data commands without
   * the epoch check or the check that their keys are still in the region, and a ReadIndex read is answered
   * without the epoch check (a read taken before a split then reads the shrunk region: a moved key is absent).
   */
  readonly applySkipsEpochCheck?: boolean
  /** A leader answers a read-only (`Snap`) command from its own state at once, without the log. */
  readonly leaderReadsLocally?: boolean
  /** The read lease lasts ten election timeouts instead of less than one (`readLease.ts`). */
  readonly leaseTooLong?: boolean
  /**
   * A store with a raft log of its own starts without mending its log where a crash left it apart from the
   * applied data (`afterData.ts`: a snapshot's data without its log, a removed peer's log behind its tombstone).
   */
  readonly skipLogMending?: boolean
}

const MiB = 1024 * 1024

/**
 * The fewest entries a GC tick compacts below the threshold (TiKV's): fewer are left, else the compaction's own
 * entry would be compacted at the next tick, and so on. A leader with this many to compact does not hibernate.
 */
export const MIN_ENTRIES_TO_COMPACT = 3

export const defaultConfig: StoreConfig = {
  // 50 ms ticks: elections time out after 0.5–1 s, so a dead leader is replaced well within 3 s
  baseTickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 2,
  preVote: true,
  checkQuorum: true,
  lazyCommit: true,
  raftLogGcTicks: 10,
  raftLogGcThreshold: 50,
  raftLogReserveMaxTicks: 6,
  raftLogGcCountLimit: 10_000,
  // TiKV's: three quarters of the region split size
  raftLogGcSizeLimit: 72 * MiB,
  regionHeartbeatTicks: 10,
  // 5 s: an unchanged region costs the scheduler a tenth of what it did at every 500 ms
  regionHeartbeatIdleTicks: 100,
  storeHeartbeatTicks: 50,
  commandTimeoutMs: 5_000,
  // TiKV's: 10 s between checks, split into 96 MiB pieces once past 144 MiB (a region's snapshot is then
  // a few seconds of transfer, and there are few enough regions for per-region work to stay cheap)
  splitCheckTicks: 200,
  regionSplitSize: 96 * MiB,
  regionMaxSize: 144 * MiB,
  readPath: "readIndex",
  leaseReads: true,
  hibernateRegions: true,
  // 30 s: a quiet region costs two heartbeats, their answers and a scheduler report per 30 s (PD's region
  // heartbeat is 60 s); a dead leader's store is noticed by its silence, not by missed check-ins
  hibernateCheckInTicks: 600
}

export const testConfig: StoreConfig = {
  baseTickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 2,
  preVote: true,
  checkQuorum: true,
  lazyCommit: true,
  raftLogGcTicks: 1,
  raftLogGcThreshold: 50,
  raftLogReserveMaxTicks: 6,
  raftLogGcCountLimit: 128_000,
  raftLogGcSizeLimit: 72 * MiB,
  regionHeartbeatTicks: 2,
  regionHeartbeatIdleTicks: 2,
  storeHeartbeatTicks: 10,
  commandTimeoutMs: 2_000,
  splitCheckTicks: 2,
  regionSplitSize: 96 * MiB,
  regionMaxSize: 144 * MiB,
  readPath: "readIndex",
  leaseReads: true,
  hibernateRegions: true,
  hibernateCheckInTicks: 20
}

export const validateConfig = (c: StoreConfig): string | undefined => {
  if (c.heartbeatTicks <= 0) return "heartbeat ticks must be positive"
  if (c.electionTicks <= c.heartbeatTicks) return "election ticks must exceed heartbeat ticks"
  if (c.baseTickMs <= 0) return "the base tick must be positive"
  if (c.regionHeartbeatIdleTicks < c.regionHeartbeatTicks)
    return "region heartbeat idle ticks must be at least the region heartbeat ticks"
  if (c.splitCheckTicks <= 0) return "split check ticks must be positive"
  if (!(c.raftLogGcSizeLimit > 0)) return "the raft log GC size limit must be positive"
  if (!(c.raftLogGcThreshold > 0)) return "the raft log GC threshold must be positive"
  if (!(c.raftLogReserveMaxTicks > 0)) return "the raft log reserve max ticks must be positive"
  if (c.regionSplitSize <= 0) return "the region split size must be positive"
  if (c.regionMaxSize < c.regionSplitSize) return "the region max size must be at least the split size"
  if (!Number.isSafeInteger(c.hibernateCheckInTicks) || c.hibernateCheckInTicks <= 0)
    return "hibernate check-in ticks must be a positive integer"
  if (c.readPath !== "readIndex" && c.readPath !== "log") return `unknown read path ${String(c.readPath)}`
  return undefined
}

/**
 * Where a store keeps its raft log (`tinykv server --raft-engine`): `log`, a raft log of its own beside the engine
 * (`layers/storageRaftLogged.ts`), or `lmdb`, the engine's `raft` space.
 */
export const RAFT_ENGINES = ["log", "lmdb"] as const
export type RaftEngine = (typeof RAFT_ENGINES)[number]
