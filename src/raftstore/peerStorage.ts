/**
 * PeerStorage: one peer's durable Raft log and state over the store's engine, implementing the Raft
 * core's synchronous `Storage` (TinyKV `peer_storage.go`).
 *
 * It keeps the raft state (hard state, last index/term), the apply state (applied index, truncated
 * entry) and the region in memory, mirrors of what is on disk. The Ready of a round is turned into
 * engine ops by `persistReady`, which updates the mirrors at once: the round writes those ops before
 * anything reads the storage again, and a failed write kills the store (it must restart from disk).
 *
 * Snapshots are built synchronously from the latest engine state at the applied index: the raftstore
 * applies in the same write as it persists, so the applied index and the data always agree. "The engine"
 * is the store's `PeerRegistry.engine`, which includes the applies the RaftWorker holds back
 * (`deferredWrites.ts`).
 */
import type { ConfState, Entry, HardState, Snapshot } from "../protocol/eraftpb.js"
import type { RegionId } from "../protocol/ids.js"
import { physicalRanges, type UserKeyRange } from "../protocol/keyspace.js"
import type { Region } from "../protocol/metapb.js"
import type { RaftApplyState, RaftLocalState } from "../protocol/raftServer.js"
import {
  type Compacted,
  compacted,
  type InitialState,
  type Storage as RaftStorage,
  type Unavailable,
  unavailable
} from "../raft/index.js"
import type { CFS, EngineReader, WriteOp } from "../services/Storage.js"
import {
  decodeEntry,
  encodeEntry,
  RaftApplyStateCodec,
  RaftLocalStateCodec,
  RegionLocalStateCodec,
  SnapshotDataCodec
} from "./codec.js"
import { clearRaftOps, markAfterData, reconcileWithSnapshot } from "./afterData.js"
import { invariant } from "./invariant.js"
import {
  applyStateKey,
  RAFT_INIT_LOG_INDEX,
  RAFT_INIT_LOG_TERM,
  raftLogKey,
  raftStateKey,
  regionStateKey
} from "./keys.js"

const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 }

export interface ApplySnapResult {
  readonly prevRegion: Region
  readonly region: Region
}

export const isInitialized = (region: Region): boolean => region.peers.length > 0

/**
 * Every op that writes a region's data out of existence: its user keys in each column family of both
 * key spaces (`protocol/keyspace.ts`), and nothing of a neighbour whose keys share a prefix with a bound.
 */
export const clearRangeOps = (region: UserKeyRange): Array<WriteOp> =>
  physicalRanges(region).map(({ cf, start, end }) => ({ _tag: "DeleteRange", space: cf, start, end }))

export class PeerStorage implements RaftStorage {
  /**
   * The last built snapshot and the region epoch it was built under, reused while still valid: building
   * scans the whole region. A snapshot from another epoch is never reused — its region would miss a peer
   * added since, and that peer drops a snapshot of a membership it is not part of (it would never start).
   */
  private cachedSnapshot: { readonly snap: Snapshot; readonly epoch: Region["regionEpoch"] } | undefined

  /** Told of every change of `region`, after it (the store's `RegionRanges` follows the range with it). */
  onRegionChange: (() => void) | undefined = undefined

  private constructor(
    private readonly engine: EngineReader,
    private current: Region,
    public raftState: RaftLocalState,
    public applyState: RaftApplyState
  ) {}

  get region(): Region {
    return this.current
  }

  set region(region: Region) {
    this.current = region
    this.onRegionChange?.()
  }

  /**
   * Loads (or initialises, TinyKV `InitRaftLocalState`/`InitApplyState`) the storage of a region. An
   * initialized region (with peers) starts with its log at 5/5; a peer created to receive a snapshot
   * starts empty at 0.
   */
  static load(
    engine: EngineReader,
    region: Region,
    /** TEST ONLY (`UnsafeTestOnly.skipLogMending`): no mending of a log a crash left behind a snapshot. */
    skipLogMending = false
  ): { storage: PeerStorage; initOps: Array<WriteOp> } {
    const ops: Array<WriteOp> = []
    const rawRaft = engine.get("raft", raftStateKey(region.id))
    let raftState: RaftLocalState
    if (rawRaft !== undefined) raftState = RaftLocalStateCodec.decode(rawRaft)
    else if (isInitialized(region)) {
      raftState = {
        hardState: { term: RAFT_INIT_LOG_TERM, vote: 0, commit: RAFT_INIT_LOG_INDEX },
        lastIndex: RAFT_INIT_LOG_INDEX,
        lastTerm: RAFT_INIT_LOG_TERM
      }
      ops.push({
        _tag: "Put",
        space: "raft",
        key: raftStateKey(region.id),
        value: RaftLocalStateCodec.encode(raftState)
      })
    } else raftState = { hardState: EMPTY_HARD_STATE, lastIndex: 0, lastTerm: 0 }
    const rawApply = engine.get("meta", applyStateKey(region.id))
    let applyState: RaftApplyState
    if (rawApply !== undefined) applyState = RaftApplyStateCodec.decode(rawApply)
    else {
      applyState = isInitialized(region)
        ? {
            appliedIndex: RAFT_INIT_LOG_INDEX,
            truncatedState: { index: RAFT_INIT_LOG_INDEX, term: RAFT_INIT_LOG_TERM }
          }
        : { appliedIndex: 0, truncatedState: { index: 0, term: 0 } }
      ops.push({
        _tag: "Put",
        space: "meta",
        key: applyStateKey(region.id),
        value: RaftApplyStateCodec.encode(applyState)
      })
    }
    if (!skipLogMending) raftState = reconcileWithSnapshot(engine, region.id, raftState, applyState, ops)
    invariant(
      raftState.lastIndex >= applyState.appliedIndex,
      () => `region ${region.id}: last index ${raftState.lastIndex} < applied ${applyState.appliedIndex}`
    )
    return { storage: new PeerStorage(engine, region, raftState, applyState), initOps: ops }
  }

  /**
   * The storage of a region a split just created on this store, with the ops that record it: the region,
   * and its log at 5/5 (TinyKV's initial raft and apply state), all in the split's own write. `carried` is
   * the hard state of an uninitialized peer of the region that lived here before (created by the new
   * region's first messages): its term and vote are kept, so the peer never votes twice in a term.
   */
  static forSplit(
    engine: EngineReader,
    region: Region,
    carried: HardState | undefined
  ): { storage: PeerStorage; ops: Array<WriteOp> } {
    const keep = carried !== undefined && carried.term > RAFT_INIT_LOG_TERM
    const raftState: RaftLocalState = {
      hardState: {
        term: keep ? carried.term : RAFT_INIT_LOG_TERM,
        vote: keep ? carried.vote : 0,
        commit: RAFT_INIT_LOG_INDEX
      },
      lastIndex: RAFT_INIT_LOG_INDEX,
      lastTerm: RAFT_INIT_LOG_TERM
    }
    const applyState: RaftApplyState = {
      appliedIndex: RAFT_INIT_LOG_INDEX,
      truncatedState: { index: RAFT_INIT_LOG_INDEX, term: RAFT_INIT_LOG_TERM }
    }
    const ops: Array<WriteOp> = [
      {
        _tag: "Put",
        space: "meta",
        key: regionStateKey(region.id),
        value: RegionLocalStateCodec.encode({ state: "Normal", region })
      },
      // after the region's data: a log at 5/5 without its region and apply state would be a log a restart cannot
      // use (`reconcileWithSnapshot` mends the other way round)
      {
        _tag: "Put",
        space: "raft",
        key: raftStateKey(region.id),
        value: RaftLocalStateCodec.encode(raftState),
        afterData: true
      },
      { _tag: "Put", space: "meta", key: applyStateKey(region.id), value: RaftApplyStateCodec.encode(applyState) }
    ]
    return { storage: new PeerStorage(engine, region, raftState, applyState), ops }
  }

  get regionId(): RegionId {
    return this.region.id
  }

  get truncatedIndex(): number {
    return this.applyState.truncatedState.index
  }

  get appliedIndex(): number {
    return this.applyState.appliedIndex
  }

  // --- raft.Storage ---

  initialState(): InitialState {
    const hs = this.raftState.hardState
    if (hs.term === 0 && hs.vote === 0 && hs.commit === 0) {
      invariant(!isInitialized(this.region), () => `region ${this.region.id} is initialized but has no hard state`)
      return { hardState: EMPTY_HARD_STATE, confState: { nodes: [] } }
    }
    return { hardState: hs, confState: confStateOf(this.region) }
  }

  entries(lo: number, hi: number): ReadonlyArray<Entry> | Compacted | Unavailable {
    if (lo <= this.truncatedIndex) return compacted
    invariant(
      hi <= this.raftState.lastIndex + 1,
      () => `entries' hi ${hi} > last index ${this.raftState.lastIndex} + 1`
    )
    if (lo >= hi) return []
    const out: Array<Entry> = []
    for (const { value } of this.engine.scan("raft", {
      start: raftLogKey(this.region.id, lo),
      end: raftLogKey(this.region.id, hi)
    })) {
      const e = decodeEntry(value)
      if (e.index !== lo + out.length) return unavailable // a gap: the log is not contiguous on disk
      out.push(e)
    }
    return out.length === hi - lo ? out : unavailable
  }

  term(i: number): number | Compacted | Unavailable {
    const t = this.applyState.truncatedState
    if (i === t.index) return t.term
    if (i < t.index) return compacted
    if (i > this.raftState.lastIndex) return unavailable
    if (i === this.raftState.lastIndex) return this.raftState.lastTerm
    const raw = this.engine.get("raft", raftLogKey(this.region.id, i))
    return raw === undefined ? unavailable : decodeEntry(raw).term
  }

  lastIndex(): number {
    return this.raftState.lastIndex
  }

  firstIndex(): number {
    return this.truncatedIndex + 1
  }

  snapshot(): Snapshot {
    const cached = this.cachedSnapshot
    const epoch = this.region.regionEpoch
    if (
      cached !== undefined &&
      cached.epoch.confVer === epoch.confVer &&
      cached.epoch.version === epoch.version &&
      cached.snap.metadata.index >= this.truncatedIndex &&
      cached.snap.metadata.index <= this.appliedIndex
    ) {
      return cached.snap
    }
    const index = this.appliedIndex
    const t = this.term(index)
    invariant(typeof t === "number", () => `region ${this.region.id}: no term for applied index ${index}`)
    const term: number = t
    const data: Array<{ cf: string; key: Uint8Array; value: Uint8Array }> = []
    // engine keys, in both key spaces: the receiver writes them as they are
    for (const { cf, start, end } of physicalRanges(this.region)) {
      for (const kv of this.engine.scan(cf, { start, end })) data.push({ cf, key: kv.key, value: kv.value })
    }
    const snap: Snapshot = {
      data: SnapshotDataCodec.encode({ region: this.region, fileSize: 0, data }),
      metadata: { confState: confStateOf(this.region), index, term }
    }
    this.cachedSnapshot = { snap, epoch }
    return snap
  }

  // --- persisting a Ready ---

  /**
   * The ops that persist a Ready's snapshot, entries and hard state (TinyKV `SaveReadyState`). Updates
   * the in-memory mirrors immediately. Returns the region change when a snapshot was installed.
   */
  persistReady(
    rd: {
      readonly snapshot?: Snapshot | undefined
      readonly entries: ReadonlyArray<Entry>
      readonly hardState?: HardState | undefined
    },
    ops: Array<WriteOp>
  ): ApplySnapResult | undefined {
    let result: ApplySnapResult | undefined
    const from = ops.length
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) result = this.applySnapshot(rd.snapshot, ops)
    this.append(rd.entries, ops)
    if (rd.hardState !== undefined) this.raftState = { ...this.raftState, hardState: rd.hardState }
    if (rd.snapshot !== undefined || rd.entries.length > 0 || rd.hardState !== undefined) {
      ops.push({
        _tag: "Put",
        space: "raft",
        key: raftStateKey(this.region.id),
        value: RaftLocalStateCodec.encode(this.raftState)
      })
    }
    // a log that starts at the snapshot must not be durable before the snapshot's data is
    if (result !== undefined) markAfterData(ops, from)
    return result
  }

  /**
   * Appends entries, deleting every persisted entry after the new last index (a truncated conflicting
   * suffix must not survive a restart, a known TinyKV pitfall). Entries below the first index are skipped.
   */
  append(entries: ReadonlyArray<Entry>, ops: Array<WriteOp>): void {
    if (entries.length === 0) return
    const first = this.firstIndex()
    const last = entries[entries.length - 1]!
    if (last.index < first) return
    for (const e of entries) {
      if (e.index < first) continue
      ops.push({ _tag: "Put", space: "raft", key: raftLogKey(this.region.id, e.index), value: encodeEntry(e) })
    }
    const prevLast = this.raftState.lastIndex
    if (prevLast > last.index) {
      ops.push({
        _tag: "DeleteRange",
        space: "raft",
        start: raftLogKey(this.region.id, last.index + 1),
        end: raftLogKey(this.region.id, prevLast + 1)
      })
    }
    this.raftState = { ...this.raftState, lastIndex: last.index, lastTerm: last.term }
  }

  /** Installs a leader's snapshot: clears the old data and log, writes the snapshot's data and states. */
  private applySnapshot(snap: Snapshot, ops: Array<WriteOp>): ApplySnapResult {
    const data = SnapshotDataCodec.decode(snap.data)
    const prevRegion = this.region
    const { index, term } = snap.metadata
    if (isInitialized(prevRegion)) ops.push(...clearRangeOps(prevRegion))
    ops.push({
      _tag: "DeleteRange",
      space: "raft",
      start: raftLogKey(prevRegion.id, 0),
      end: raftLogKey(prevRegion.id, Math.max(this.raftState.lastIndex, index) + 1)
    })
    ops.push(...clearRangeOps(data.region))
    for (const kv of data.data) {
      ops.push({ _tag: "Put", space: kv.cf as (typeof CFS)[number], key: kv.key, value: kv.value })
    }
    const hs = this.raftState.hardState
    this.raftState = {
      hardState: { ...hs, commit: Math.max(hs.commit, index), term: Math.max(hs.term, term) },
      lastIndex: index,
      lastTerm: term
    }
    this.applyState = { appliedIndex: index, truncatedState: { index, term } }
    this.region = data.region
    this.cachedSnapshot = undefined
    ops.push(
      {
        _tag: "Put",
        space: "meta",
        key: applyStateKey(this.region.id),
        value: RaftApplyStateCodec.encode(this.applyState)
      },
      {
        _tag: "Put",
        space: "meta",
        key: regionStateKey(this.region.id),
        value: RegionLocalStateCodec.encode({ state: "Normal", region: this.region })
      }
    )
    return { prevRegion, region: this.region }
  }

  /** Records a new applied index (and truncated state) to persist with the applied data. */
  setApplyState(state: RaftApplyState, ops: Array<WriteOp>): void {
    this.applyState = state
    ops.push({
      _tag: "Put",
      space: "meta",
      key: applyStateKey(this.region.id),
      value: RaftApplyStateCodec.encode(state)
    })
  }

  /** Deletes every meta key and log entry of the region (TinyKV `ClearMeta`): region, apply and raft state, log. */
  clearMetaOps(ops: Array<WriteOp>): void {
    const id = this.region.id
    // the log goes after the tombstone is durable: a region state without its log is one a restart cannot load
    ops.push(...clearRaftOps(id, this.raftState.lastIndex))
    ops.push(
      { _tag: "Delete", space: "meta", key: applyStateKey(id) },
      // a destroyed peer writes its Tombstone state after these ops
      { _tag: "Delete", space: "meta", key: regionStateKey(id) }
    )
  }
}

export const confStateOf = (region: Region): ConfState => ({ nodes: region.peers.map((p) => p.id) })
