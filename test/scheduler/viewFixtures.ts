/** Builders for the checkers' pure inputs: store views, region infos and a cluster view. */
import { peerId, regionId, storeId } from "../../src/protocol/ids.js"
import type { Peer } from "../../src/protocol/metapb.js"
import type { StoreStatus } from "../../src/protocol/scheduler.js"
import { defaultScheduleConfig, type ScheduleConfig } from "../../src/scheduler/config.js"
import type { RegionInfo } from "../../src/scheduler/regionInfo.js"
import type { ClusterView, NewPeerId, StoreView } from "../../src/scheduler/view.js"

export const sv = (
  id: number,
  o: Partial<Omit<StoreView, "id" | "status">> & { status?: StoreStatus } = {}
): StoreView => ({
  id: storeId(id),
  status: "Up",
  regionCount: 0,
  leaderCount: 0,
  regionSize: o.regionCount ?? 0,
  operatorCount: 0,
  ...o
})

/** Region `id` with one peer per store in `stores` (peer id = id*100 + store); the leader on `leaderStore` (default the first). */
export const ri = (
  id: number,
  stores: ReadonlyArray<number>,
  o: { leaderStore?: number | null; pendingStores?: ReadonlyArray<number>; size?: number; confVer?: number } = {}
): RegionInfo => {
  const peers: Array<Peer> = stores.map((s) => ({ id: peerId(id * 100 + s), storeId: storeId(s) }))
  const leaderStore = o.leaderStore === undefined ? stores[0] : o.leaderStore
  return {
    region: {
      id: regionId(id),
      startKey: new Uint8Array([id]),
      endKey: new Uint8Array([id + 1]),
      regionEpoch: { confVer: o.confVer ?? stores.length, version: 1 },
      peers
    },
    leader: leaderStore === null ? undefined : peers.find((p) => p.storeId === leaderStore),
    pendingPeers: peers.filter((p) => (o.pendingStores ?? []).includes(p.storeId)),
    approximateSize: o.size ?? 1
  }
}

export const mkView = (
  stores: ReadonlyArray<StoreView>,
  regions: ReadonlyArray<RegionInfo>,
  config: Partial<ScheduleConfig> = {},
  busy: ReadonlyArray<number> = []
): ClusterView => ({
  config: { ...defaultScheduleConfig, ...config },
  stores: new Map(stores.map((s) => [s.id, s])),
  regions,
  busyRegions: new Set(busy),
  running: new Map()
})

/** Peer ids 1000, 1001, … */
export const counter = (): NewPeerId => {
  let n = 1000
  return () => peerId(n++)
}
