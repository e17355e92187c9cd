/**
 * Replica consistency (TiKV's consistency check, done from outside): two replicas of a region that have
 * applied the same log prefix must hold the same data in the region's range.
 *
 * Each store's engine is read in one snapshot: the region states and apply states in `meta` and the data
 * of every column family in each region's range. The raftstore writes a region's data, its apply state and
 * (for a split or a membership change) its region state in one batch, so within one snapshot a replica's
 * data is exactly what its applied prefix produced — whatever it synced, crashed or re-applied before.
 * Replicas at different applied indexes are not compared; the caller waits for them to catch up.
 *
 * What it catches that the final reads may not: a write applied on some replicas and not others, or in a
 * different order relative to another write of the same key (an apply that ignored the region's epoch and
 * wrote outside its range), when the leader that serves the final reads happens to hold the right value.
 */
import { Effect, type Scope } from "effect"
import { toHex } from "../../protocol/bytes.js"
import type { RegionId, StoreId } from "../../protocol/ids.js"
import { physicalRanges } from "../../protocol/keyspace.js"
import { applyStateKey, REGION_META_MAX_KEY, REGION_META_MIN_KEY, regionIdOfStateKey } from "../../raftstore/keys.js"
import { RaftApplyStateCodec, RegionLocalStateCodec } from "../../raftstore/codec.js"
import type { EngineReader } from "../../services/Storage.js"

/** One replica's view of its region, read from its store's engine. */
export interface ReplicaDigest {
  readonly store: StoreId
  readonly region: RegionId
  /** `version.confVer` of the region's epoch, and its range, as this replica's region state says. */
  readonly epoch: string
  readonly range: string
  readonly applied: number
  /** A hash of every key and value of every column family in the range, and how many keys there were. */
  readonly hash: number
  readonly keys: number
}

const REGION_META = { start: REGION_META_MIN_KEY, end: REGION_META_MAX_KEY }

/** FNV-1a, continued over `bytes` (with its length first, so a key and a value cannot run into each other). */
const fnv = (h: number, bytes: Uint8Array): number => {
  h = Math.imul(h ^ (bytes.length & 0xff), 0x01000193)
  h = Math.imul(h ^ (bytes.length >>> 8), 0x01000193)
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193)
  return h
}

/** The digests of every initialized, live replica in one store's engine, from one snapshot. */
export const digestStore = (store: StoreId, reader: EngineReader): ReadonlyArray<ReplicaDigest> => {
  const out: Array<ReplicaDigest> = []
  for (const { key, value } of reader.scan("meta", REGION_META)) {
    if (regionIdOfStateKey(key) === undefined) continue
    const state = RegionLocalStateCodec.decode(value)
    const region = state.region
    // a tombstone has no data, and an uninitialized peer (no members known yet) has no range
    if (state.state !== "Normal" || region.peers.length === 0) continue
    const rawApply = reader.get("meta", applyStateKey(region.id))
    if (rawApply === undefined) continue
    let hash = 0x811c9dc5
    let keys = 0
    for (const { cf, start, end } of physicalRanges(region)) {
      for (const kv of reader.scan(cf, { start, end })) {
        hash = fnv(fnv(hash, kv.key), kv.value)
        keys++
      }
    }
    out.push({
      store,
      region: region.id,
      epoch: `${region.regionEpoch.version}.${region.regionEpoch.confVer}`,
      range: `${toHex(region.startKey)}..${toHex(region.endKey)}`,
      applied: RaftApplyStateCodec.decode(rawApply).appliedIndex,
      hash: hash >>> 0,
      keys
    })
  }
  return out
}

export interface ReplicaReport {
  /** Pairs of replicas at the same applied index whose data differ, described. */
  readonly violations: ReadonlyArray<string>
  /** Regions whose replicas all stood at one applied index (so all of them were compared). */
  readonly settled: number
  /** Regions with replicas at different applied indexes (only equal ones were compared). */
  readonly unsettled: number
  /** Replica pairs compared. */
  readonly compared: number
}

/** Compares every two replicas of a region that have applied the same prefix. */
export const compareReplicas = (digests: ReadonlyArray<ReplicaDigest>): ReplicaReport => {
  const byRegion = new Map<RegionId, Array<ReplicaDigest>>()
  for (const d of digests) {
    const list = byRegion.get(d.region)
    if (list === undefined) byRegion.set(d.region, [d])
    else list.push(d)
  }
  const violations: Array<string> = []
  let settled = 0
  let unsettled = 0
  let compared = 0
  for (const [region, replicas] of byRegion) {
    if (replicas.length < 2) continue
    if (replicas.every((r) => r.applied === replicas[0]!.applied)) settled++
    else unsettled++
    const byApplied = new Map<number, ReplicaDigest>()
    for (const r of replicas) {
      const first = byApplied.get(r.applied)
      if (first === undefined) {
        byApplied.set(r.applied, r)
        continue
      }
      compared++
      if (first.epoch !== r.epoch || first.range !== r.range || first.hash !== r.hash || first.keys !== r.keys) {
        violations.push(
          `replicas of region ${region} differ at applied index ${r.applied}: store ${first.store} has epoch ${first.epoch}, range ${first.range}, ${first.keys} keys (hash ${first.hash}); store ${r.store} has epoch ${r.epoch}, range ${r.range}, ${r.keys} keys (hash ${r.hash})`
        )
      }
    }
  }
  return { violations, settled, unsettled, compared }
}

/**
 * Reads every store's digests (`snapshot` opens a store's engine, `undefined` for a stopped store) until
 * all regions are settled or `attempts` reads were made, `pause` apart; then compares what the last read
 * saw. A violation seen in any read is kept: two replicas at one applied index never legitimately differ.
 */
export const checkReplicas = <E, R>(
  stores: ReadonlyArray<StoreId>,
  snapshot: (store: StoreId) => Effect.Effect<EngineReader, E, R | Scope.Scope> | undefined,
  pause: Effect.Effect<void>,
  attempts: number
): Effect.Effect<ReplicaReport, E, Exclude<R, Scope.Scope>> =>
  Effect.gen(function* () {
    const seen: Array<string> = []
    let report: ReplicaReport = { violations: [], settled: 0, unsettled: 0, compared: 0 }
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) yield* pause
      const digests: Array<ReplicaDigest> = []
      for (const store of stores) {
        const open = snapshot(store)
        if (open === undefined) continue
        digests.push(...(yield* Effect.scoped(Effect.map(open, (reader) => digestStore(store, reader)))))
      }
      report = compareReplicas(digests)
      for (const v of report.violations) if (!seen.includes(v)) seen.push(v)
      if (report.unsettled === 0) break
    }
    return { ...report, violations: seen }
  })
