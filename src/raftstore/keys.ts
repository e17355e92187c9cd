/**
 * The raftstore's meta keys (TinyKV `kv/raftstore/meta/keys.go`), with region ids and
 * log indexes as 8-byte big-endian so that a region's keys sort together and its log sorts by index.
 *
 * Spaces (see services/Storage.ts): log entries and raft state live in `raft`; apply state, region
 * state, the store ident and the bootstrap marker in `meta` — the same engine, so a single write batch
 * can update both.
 */
const LOCAL_PREFIX = 0x01
const REGION_RAFT_PREFIX = 0x02
const REGION_META_PREFIX = 0x03
const RAFT_LOG_SUFFIX = 0x01
const RAFT_STATE_SUFFIX = 0x02
const APPLY_STATE_SUFFIX = 0x03
const REGION_STATE_SUFFIX = 0x01

/** Log term and index of a freshly bootstrapped (or split-created) region: its log starts at 6. */
export const RAFT_INIT_LOG_TERM = 5
export const RAFT_INIT_LOG_INDEX = 5
export const INIT_EPOCH_VER = 1
export const INIT_EPOCH_CONF_VER = 1

export const PREPARE_BOOTSTRAP_KEY = new Uint8Array([LOCAL_PREFIX, 0x01])
export const STORE_IDENT_KEY = new Uint8Array([LOCAL_PREFIX, 0x02])

const putU64 = (b: Uint8Array, at: number, n: number) => {
  // ids and indexes are < 2^53: split into two 32-bit halves
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  view.setUint32(at, Math.floor(n / 0x1_0000_0000))
  view.setUint32(at + 4, n >>> 0)
}

const getU64 = (b: Uint8Array, at: number): number => {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return view.getUint32(at) * 0x1_0000_0000 + view.getUint32(at + 4)
}

const regionKey = (prefix: number, regionId: number, suffix: number, extra = 0): Uint8Array => {
  const k = new Uint8Array(11 + extra)
  k[0] = LOCAL_PREFIX
  k[1] = prefix
  putU64(k, 2, regionId)
  k[10] = suffix
  return k
}

export const raftLogKey = (regionId: number, index: number): Uint8Array => {
  const k = regionKey(REGION_RAFT_PREFIX, regionId, RAFT_LOG_SUFFIX, 8)
  putU64(k, 11, index)
  return k
}

/** The index encoded in a `raftLogKey`. */
export const raftLogIndex = (key: Uint8Array): number => getU64(key, 11)

export const raftStateKey = (regionId: number): Uint8Array => regionKey(REGION_RAFT_PREFIX, regionId, RAFT_STATE_SUFFIX)
export const applyStateKey = (regionId: number): Uint8Array =>
  regionKey(REGION_RAFT_PREFIX, regionId, APPLY_STATE_SUFFIX)
export const regionStateKey = (regionId: number): Uint8Array =>
  regionKey(REGION_META_PREFIX, regionId, REGION_STATE_SUFFIX)

/** `[start, end)` covering every region state key (what a restarting store scans to load its peers). */
export const REGION_META_MIN_KEY = new Uint8Array([LOCAL_PREFIX, REGION_META_PREFIX])
export const REGION_META_MAX_KEY = new Uint8Array([LOCAL_PREFIX, REGION_META_PREFIX + 1])

/** The region id in a region state key, or `undefined` for another key. */
export const regionIdOfStateKey = (key: Uint8Array): number | undefined =>
  key.length === 11 && key[0] === LOCAL_PREFIX && key[1] === REGION_META_PREFIX && key[10] === REGION_STATE_SUFFIX
    ? getU64(key, 2)
    : undefined
