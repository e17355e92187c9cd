/**
 * Making peers: the one constructor every peer goes through (seeded election jitter per region and
 * peer), and loading the peers recorded on disk when a store starts (TinyKV `loadPeers`).
 */
import type { Clock } from "effect"
import type { RegionId, StoreId } from "../protocol/ids.js"
import { deriveSeed, RaftInvariantError } from "../raft/index.js"
import type { EngineReader, WriteOp } from "../services/Storage.js"
import { RaftLocalStateCodec, RegionLocalStateCodec } from "./codec.js"
import type { StoreConfig } from "./config.js"
import { REGION_META_MAX_KEY, REGION_META_MIN_KEY, raftStateKey, regionIdOfStateKey } from "./keys.js"
import { Peer } from "./peer.js"
import { clearRaftOps } from "./afterData.js"
import { PeerStorage } from "./peerStorage.js"

/** Past any entry a log holds (indexes stay below 2^53). */
const MAX_LOG_INDEX = Number.MAX_SAFE_INTEGER - 1
import { leaseNanos } from "./readLease.js"
import { findPeer } from "./regionUtil.js"

export interface PeerFactoryOptions {
  readonly storeId: StoreId
  readonly config: StoreConfig
  /** Seeds every peer's election jitter (with the region id mixed in). */
  readonly seed: number
  /**
   * The monotonic clock leaders time their read leases by (`readLease.ts`); the layers that make peers add
   * the Effect `Clock` (a `TestClock` in the simulator). Absent: no read leases.
   */
  readonly clock?: Clock.Clock | undefined
}

/** The lease a peer made with `options` gets (none without a clock, or when the config turns leases off). */
const leaseOf = (options: PeerFactoryOptions): bigint => {
  const c = options.config
  if (options.clock === undefined || !c.leaseReads || !c.checkQuorum || c.readPath !== "readIndex") return 0n
  const nanos = leaseNanos(c.electionTicks, c.baseTickMs)
  // (TEST ONLY: the simulator's `lease-too-long` self-test)
  return c.unsafeTestOnly?.leaseTooLong === true ? nanos * 20n : nanos
}

/**
 * A peer of this store. `quietAfterStart` (Raft `Config.quietAfterStart`): every peer but the right half of a
 * split this store just applied — a peer loaded at start, or made by a message, may have answered a leader's
 * heartbeat before the store stopped; a split's new peer has never answered anyone, and its leader campaigns
 * at once, which a quiet peer would refuse.
 */
export const newPeer = (
  options: PeerFactoryOptions,
  meta: Peer["meta"],
  ps: PeerStorage,
  quietAfterStart = true
): Peer =>
  new Peer(options.storeId, meta, ps, {
    quietAfterStart,
    leaseNanos: leaseOf(options),
    clock: options.clock,
    electionTicks: options.config.electionTicks,
    heartbeatTicks: options.config.heartbeatTicks,
    readPath: options.config.readPath,
    preVote: options.config.preVote,
    checkQuorum: options.config.checkQuorum,
    lazyCommit: options.config.lazyCommit,
    seed: deriveSeed(options.seed, ps.region.id * 1_000_003 + meta.id),
    unsafeTestOnly: options.config.unsafeTestOnly
  })

export interface LoadedPeers {
  readonly peers: ReadonlyArray<Peer>
  /** Regions whose Raft state on disk is inconsistent: they stay down, the others start. */
  readonly failed: ReadonlyArray<{ readonly regionId: RegionId; readonly error: RaftInvariantError }>
  /** Initial raft/apply state to persist (with one fsync) before any peer runs. */
  readonly initOps: ReadonlyArray<WriteOp>
}

/** Every non-tombstone region on disk that has a peer on this store. */
export const loadPeers = (engine: EngineReader, options: PeerFactoryOptions): LoadedPeers => {
  const peers: Array<Peer> = []
  const failed: Array<{ regionId: RegionId; error: RaftInvariantError }> = []
  const initOps: Array<WriteOp> = []
  // (TEST ONLY: the simulator's `no-log-mending` self-test)
  const skipLogMending = options.config.unsafeTestOnly?.skipLogMending === true
  for (const { key, value } of engine.scan("meta", { start: REGION_META_MIN_KEY, end: REGION_META_MAX_KEY })) {
    if (regionIdOfStateKey(key) === undefined) continue
    const state = RegionLocalStateCodec.decode(value)
    if (state.state === "Tombstone") {
      // A raft log of its own clears a removed peer's log after its tombstone is durable: a crash between the two
      // leaves the log, which a peer of the region made here later must not take for its own. Only a log with
      // entries: a raft state without any is an uninitialized peer's made since, whose vote must be kept.
      const raft = engine.get("raft", raftStateKey(state.region.id))
      if (!skipLogMending && raft !== undefined && RaftLocalStateCodec.decode(raft).lastIndex > 0)
        initOps.push(...clearRaftOps(state.region.id, MAX_LOG_INDEX))
      continue
    }
    const meta = findPeer(state.region, options.storeId)
    if (meta === undefined) continue
    try {
      const { storage: ps, initOps: ops } = PeerStorage.load(engine, state.region, skipLogMending)
      const peer = newPeer(options, meta, ps)
      initOps.push(...ops)
      peers.push(peer)
    } catch (e) {
      // the same per-region isolation as a running peer's (see the RaftWorker): one broken region must
      // not keep the store's other regions down
      if (!(e instanceof RaftInvariantError)) throw e
      failed.push({ regionId: state.region.id, error: e })
    }
  }
  return { peers, failed, initOps }
}
