/**
 * How the scheduler keeps its state in the engine's `meta` space, under the `scheduler/` prefix:
 *
 * | key                         | value                                   | written          |
 * |-----------------------------|-----------------------------------------|------------------|
 * | `scheduler/cluster_id`      | u64 BE                                  | first start      |
 * | `scheduler/cluster`         | msgpack `metapb.Cluster`                | bootstrap        |
 * | `scheduler/store/<hex id>`  | msgpack `metapb.Store`                  | put/state change |
 * | `scheduler/region/<hex id>` | msgpack `metapb.Region`                 | meta change      |
 * | `scheduler/alloc_id`        | u64 BE: every id below it may be in use | every 1000 ids   |
 * | `scheduler/tso`             | u64 BE: ms no timestamp has reached     | every 3 s        |
 * | `scheduler/gc_safe_point`   | u64 BE                                  | on advance       |
 *
 * Store stats, leaders, pending peers and sizes are soft state (TinyKV does not persist them either):
 * the next heartbeats rebuild them. The pure logic records its writes in a `WriteLog`; the service
 * applies them in one batch before answering, synced when a high-water mark moved.
 */
import { decodeU64, encodeU64, storedCodec } from "../protocol/storedCodec.js"
import { utf8 } from "../protocol/bytes.js"
import { Cluster, Region, Store } from "../protocol/metapb.js"
import type { WriteOp } from "../services/Storage.js"

export const PREFIX = utf8("scheduler/")
/** The first key after every `scheduler/…` key ('0' follows '/'). */
export const PREFIX_END = utf8("scheduler0")

export const KEY_CLUSTER_ID = utf8("scheduler/cluster_id")
export const KEY_CLUSTER = utf8("scheduler/cluster")
export const KEY_ALLOC_ID = utf8("scheduler/alloc_id")
export const KEY_TSO = utf8("scheduler/tso")
export const KEY_GC_SAFE_POINT = utf8("scheduler/gc_safe_point")
export const STORE_PREFIX = "scheduler/store/"
export const REGION_PREFIX = "scheduler/region/"

const idSuffix = (id: number): string => id.toString(16).padStart(16, "0")
export const storeKey = (id: number): Uint8Array => utf8(STORE_PREFIX + idSuffix(id))
export const regionKey = (id: number): Uint8Array => utf8(REGION_PREFIX + idSuffix(id))

export { decodeU64, encodeU64 }
export const regionCodec = storedCodec(Region)
export const storeCodec = storedCodec(Store)
export const clusterCodec = storedCodec(Cluster)

/** Writes recorded by the pure logic, applied by the service as one batch. */
export class WriteLog {
  private ops: Array<WriteOp> = []
  private mustSync = false

  put(key: Uint8Array, value: Uint8Array, sync: boolean): void {
    this.ops.push({ _tag: "Put", space: "meta", key, value })
    this.mustSync ||= sync
  }

  delete(key: Uint8Array): void {
    this.ops.push({ _tag: "Delete", space: "meta", key })
  }

  /** The recorded writes, emptying the log. `sync` when any of them must be durable before answering. */
  take(): { readonly ops: ReadonlyArray<WriteOp>; readonly sync: boolean } {
    const out = { ops: this.ops, sync: this.mustSync }
    this.ops = []
    this.mustSync = false
    return out
  }
}

/** Everything `load` found under `scheduler/`. */
export interface PersistedState {
  readonly clusterId: number | undefined
  readonly cluster: Cluster | undefined
  readonly stores: ReadonlyArray<Store>
  readonly regions: ReadonlyArray<Region>
  readonly allocIdEnd: number
  readonly tsoCeilingMs: bigint
  readonly gcSafePoint: bigint
}

export const emptyState: PersistedState = {
  clusterId: undefined,
  cluster: undefined,
  stores: [],
  regions: [],
  allocIdEnd: 0,
  tsoCeilingMs: 0n,
  gcSafePoint: 0n
}

/** Rebuilds the persisted state from the `meta` entries under the prefix (pure; the service scans). */
export const decodeState = (entries: ReadonlyArray<{ key: Uint8Array; value: Uint8Array }>): PersistedState => {
  const text = new TextDecoder()
  let state: PersistedState = emptyState
  const stores: Array<Store> = []
  const regions: Array<Region> = []
  for (const { key, value } of entries) {
    const k = text.decode(key)
    if (k === "scheduler/cluster_id") state = { ...state, clusterId: Number(decodeU64(value)) }
    else if (k === "scheduler/cluster") state = { ...state, cluster: clusterCodec.decode(value) }
    else if (k === "scheduler/alloc_id") state = { ...state, allocIdEnd: Number(decodeU64(value)) }
    else if (k === "scheduler/tso") state = { ...state, tsoCeilingMs: decodeU64(value) }
    else if (k === "scheduler/gc_safe_point") state = { ...state, gcSafePoint: decodeU64(value) }
    else if (k.startsWith(STORE_PREFIX)) stores.push(storeCodec.decode(value))
    else if (k.startsWith(REGION_PREFIX)) regions.push(regionCodec.decode(value))
  }
  return { ...state, stores, regions }
}
