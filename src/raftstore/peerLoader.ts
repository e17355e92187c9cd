/**
 * Making peers: the one constructor every peer goes through (seeded election jitter per region and
 * peer), and loading the peers recorded on disk when a store starts (TinyKV `loadPeers`).
 */
import type { RegionId, StoreId } from "../protocol/ids.js"
import { deriveSeed, RaftInvariantError } from "../raft/index.js"
import type { EngineReader, WriteOp } from "../services/Storage.js"
import { RegionLocalStateCodec } from "./codec.js"
import type { StoreConfig } from "./config.js"
import { REGION_META_MAX_KEY, REGION_META_MIN_KEY, regionIdOfStateKey } from "./keys.js"
import { Peer } from "./peer.js"
import { PeerStorage } from "./peerStorage.js"
import { findPeer } from "./regionUtil.js"

export interface PeerFactoryOptions {
  readonly storeId: StoreId
  readonly config: StoreConfig
  /** Seeds every peer's election jitter (with the region id mixed in). */
  readonly seed: number
}

export const newPeer = (options: PeerFactoryOptions, meta: Peer["meta"], ps: PeerStorage): Peer =>
  new Peer(options.storeId, meta, ps, {
    electionTicks: options.config.electionTicks,
    heartbeatTicks: options.config.heartbeatTicks,
    readPath: options.config.readPath,
    preVote: options.config.preVote,
    checkQuorum: options.config.checkQuorum,
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
  for (const { key, value } of engine.scan("meta", { start: REGION_META_MIN_KEY, end: REGION_META_MAX_KEY })) {
    if (regionIdOfStateKey(key) === undefined) continue
    const state = RegionLocalStateCodec.decode(value)
    if (state.state === "Tombstone") continue
    const meta = findPeer(state.region, options.storeId)
    if (meta === undefined) continue
    try {
      const { storage: ps, initOps: ops } = PeerStorage.load(engine, state.region)
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
