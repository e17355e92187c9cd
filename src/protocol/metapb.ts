/** metapb: cluster, store, region and peer metadata (TinyKV `proto/metapb.proto`). */
import { Schema } from "effect"
import { Bytes, PeerId, RegionId, StoreId, U64 } from "./ids.js"

export const Cluster = Schema.Struct({ id: U64, maxPeerCount: U64 })
export type Cluster = typeof Cluster.Type

export const StoreState = Schema.Literal("Up", "Offline", "Tombstone")
export type StoreState = typeof StoreState.Type

/** `statusAddress`: where the store's status listener (`/metrics`, `/health`) is, when it runs one. */
export const Store = Schema.Struct({
  id: StoreId,
  address: Schema.String,
  state: StoreState,
  statusAddress: Schema.optional(Schema.String)
})
export type Store = typeof Store.Type

/** `confVer` grows on every membership change, `version` on every split or merge. */
export const RegionEpoch = Schema.Struct({ confVer: U64, version: U64 })
export type RegionEpoch = typeof RegionEpoch.Type

export const Peer = Schema.Struct({ id: PeerId, storeId: StoreId })
export type Peer = typeof Peer.Type

/** A half-open key range `[startKey, endKey)`; an empty `endKey` means "to the end of the key space". */
export const Region = Schema.Struct({
  id: RegionId,
  startKey: Bytes,
  endKey: Bytes,
  regionEpoch: RegionEpoch,
  peers: Schema.Array(Peer)
})
export type Region = typeof Region.Type
