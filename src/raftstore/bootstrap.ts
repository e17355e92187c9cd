/**
 * Bootstrapping a store and the cluster's first region (TinyKV `bootstrap.go` / `node.go`).
 *
 * A store's identity (`StoreIdent`) is written once into an empty engine. The first region is
 * "prepared" on every store that was named in the initial cluster — the same region, with one peer
 * per initial store (peer id = store id), log at 5/5 — so a fresh multi-store cluster is replicated
 * from its first write, as TinyKV's test cluster is. The scheduler learns it through `bootstrap`.
 */
import type { RegionId, StoreId } from "../protocol/ids.js"
import type { Region } from "../protocol/metapb.js"
import type { EngineReader, WriteOp } from "../services/Storage.js"
import { RegionLocalStateCodec, StoreIdentCodec } from "./codec.js"
import {
  INIT_EPOCH_CONF_VER,
  INIT_EPOCH_VER,
  REGION_META_MAX_KEY,
  REGION_META_MIN_KEY,
  regionStateKey,
  STORE_IDENT_KEY
} from "./keys.js"

export const FIRST_REGION_ID = 1 as RegionId

/** The store id recorded in the engine, if any (and the cluster id it belongs to). */
export const readStoreIdent = (engine: EngineReader) => {
  const raw = engine.get("meta", STORE_IDENT_KEY)
  return raw === undefined ? undefined : StoreIdentCodec.decode(raw)
}

export const storeIdentOps = (storeId: StoreId, clusterId = 0): Array<WriteOp> => [
  { _tag: "Put", space: "meta", key: STORE_IDENT_KEY, value: StoreIdentCodec.encode({ clusterId, storeId }) }
]

/** The first region of a cluster whose initial stores are `storeIds`: the whole key space, one peer each. */
export const firstRegion = (storeIds: ReadonlyArray<StoreId>): Region => ({
  id: FIRST_REGION_ID,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: { confVer: INIT_EPOCH_CONF_VER, version: INIT_EPOCH_VER },
  peers: storeIds.map((storeId) => ({ id: storeId as number as never, storeId }))
})

/** Whether the engine holds any region state (then the store was bootstrapped before). */
export const hasRegions = (engine: EngineReader): boolean => {
  // a loop, not one `next()`: leaving it closes the engine's cursor (an open one holds its read transaction)
  for (const _ of engine.scan("meta", { start: REGION_META_MIN_KEY, end: REGION_META_MAX_KEY, limit: 1 })) return true
  return false
}

export const prepareRegionOps = (region: Region): Array<WriteOp> => [
  {
    _tag: "Put",
    space: "meta",
    key: regionStateKey(region.id),
    value: RegionLocalStateCodec.encode({ state: "Normal", region })
  }
]
