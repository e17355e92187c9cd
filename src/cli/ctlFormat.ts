/**
 * What `tinykv ctl` prints: the scheduler's answers as plain JSON-ready rows (the `--json` output,
 * field names fixed) and as aligned text tables. Pure.
 */
import { compareBytes, toHex } from "../protocol/bytes.js"
import type { OperatorInfo, OperatorStepInfo, RegionDetail, StoreDetail } from "../protocol/scheduler.js"

export interface StoreRow {
  readonly id: number
  readonly address: string
  /** Up, Disconnected, Down, Offline or Tombstone. */
  readonly state: string
  readonly regionCount: number
  readonly leaderCount: number
  /** Bytes, as the store last reported (0 until it reports). */
  readonly capacity: number
  readonly available: number
  /** ISO 8601; null when no heartbeat since the scheduler started. */
  readonly lastHeartbeat: string | null
}

export interface PeerRow {
  readonly id: number
  readonly storeId: number
}

export interface RegionRow {
  readonly id: number
  /** Hex; "" is the start (or, for endKey, the end) of the key space. */
  readonly startKey: string
  readonly endKey: string
  readonly epoch: { readonly confVer: number; readonly version: number }
  readonly peers: ReadonlyArray<PeerRow>
  readonly leader: PeerRow | null
  /** MiB (at least 1), from the leader's last heartbeat. */
  readonly approximateSize: number
}

export const storeRow = (d: StoreDetail): StoreRow => ({
  id: d.store.id,
  address: d.store.address,
  state: d.status,
  regionCount: d.regionCount,
  leaderCount: d.leaderCount,
  capacity: d.stats?.capacity ?? 0,
  available: d.stats?.available ?? 0,
  lastHeartbeat: d.lastHeartbeatMs > 0 ? new Date(d.lastHeartbeatMs).toISOString() : null
})

const peerRow = (p: { readonly id: number; readonly storeId: number }): PeerRow => ({ id: p.id, storeId: p.storeId })

export const regionRow = (d: RegionDetail): RegionRow => ({
  id: d.region.id,
  startKey: toHex(d.region.startKey),
  endKey: toHex(d.region.endKey),
  epoch: { confVer: d.region.regionEpoch.confVer, version: d.region.regionEpoch.version },
  peers: d.region.peers.map(peerRow),
  leader: d.leader === undefined ? null : peerRow(d.leader),
  approximateSize: d.approximateSize
})

/** Whether `key` falls in the region (`ScanRegionDetails` from a key may start with the next region). */
export const regionContains = (d: RegionDetail, key: Uint8Array): boolean =>
  compareBytes(d.region.startKey, key) <= 0 && (d.region.endKey.length === 0 || compareBytes(key, d.region.endKey) < 0)

export const describeStep = (s: OperatorStepInfo): string => {
  switch (s._tag) {
    case "AddPeer":
      return `add peer ${s.peerId} on store ${s.toStore}`
    case "RemovePeer":
      return `remove peer on store ${s.fromStore}`
    case "TransferLeader":
      return `transfer leader ${s.fromStore}→${s.toStore}`
    case "SplitRegion":
      return s.keys.length === 0 ? "split" : `split at ${s.keys.map(toHex).join(",")}`
  }
}

export interface OperatorRow {
  readonly regionId: number
  readonly kind: string
  readonly status: string
  readonly desc: string
  readonly steps: ReadonlyArray<string>
  readonly currentStep: number
  readonly created: string
}

export const operatorRow = (o: OperatorInfo): OperatorRow => ({
  regionId: o.regionId,
  kind: o.kind,
  status: o.status,
  desc: o.desc,
  steps: o.steps.map(describeStep),
  currentStep: o.currentStep,
  created: new Date(o.createdMs).toISOString()
})

/** Columns padded to their widest cell, two spaces apart; no trailing spaces. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  return [line(headers), ...rows.map(line)].join("\n")
}

const showKey = (hex: string, end: boolean): string => (hex.length > 0 ? hex : end ? "+inf" : "-inf")
const showPeer = (p: PeerRow): string => `${p.id}@${p.storeId}`

export const storesTable = (rows: ReadonlyArray<StoreRow>): string =>
  table(
    ["ID", "ADDRESS", "STATE", "REGIONS", "LEADERS", "CAPACITY", "AVAILABLE", "LAST HEARTBEAT"],
    rows.map((r) => [
      String(r.id),
      r.address,
      r.state,
      String(r.regionCount),
      String(r.leaderCount),
      String(r.capacity),
      String(r.available),
      r.lastHeartbeat ?? "never"
    ])
  )

export const regionsTable = (rows: ReadonlyArray<RegionRow>): string =>
  table(
    ["ID", "START", "END", "EPOCH", "PEERS (id@store)", "LEADER", "SIZE MiB"],
    rows.map((r) => [
      String(r.id),
      showKey(r.startKey, false),
      showKey(r.endKey, true),
      `${r.epoch.confVer}/${r.epoch.version}`,
      r.peers.map(showPeer).join(","),
      r.leader === null ? "-" : showPeer(r.leader),
      String(r.approximateSize)
    ])
  )

export const operatorsTable = (rows: ReadonlyArray<OperatorRow>): string =>
  table(
    ["REGION", "KIND", "STATUS", "STEP", "STEPS", "DESC"],
    rows.map((r) => [
      String(r.regionId),
      r.kind,
      r.status,
      `${r.currentStep}/${r.steps.length}`,
      r.steps.join("; "),
      r.desc
    ])
  )
