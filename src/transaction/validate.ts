/**
 * Requests no store should run, answered with `InvalidArgument` before any latch or read: empty or
 * oversized keys (the lock CF stores raw user keys, and LMDB rejects empty ones), oversized values
 * and scan limits, mutation ops TinyKV does not support, and commit timestamps that do not follow
 * the start timestamp.
 */
import { InvalidArgument } from "../protocol/errorpb.js"
import type {
  BatchRollbackRequest,
  CheckTxnStatusRequest,
  CommitRequest,
  GetRequest,
  PrewriteRequest,
  ResolveLockRequest,
  ScanRequest
} from "../protocol/kvrpc.js"
import { MAX_KEY_SIZE, MAX_SCAN_LIMIT, MAX_VALUE_SIZE } from "../protocol/limits.js"

type Invalid = InvalidArgument | undefined

const invalid = (message: string) => new InvalidArgument({ message })

const checkKey = (key: Uint8Array, what: string): Invalid =>
  key.length === 0
    ? invalid(`${what} must not be empty`)
    : key.length > MAX_KEY_SIZE
      ? invalid(`${what} is ${key.length} bytes; the limit is ${MAX_KEY_SIZE}`)
      : undefined

const checkKeys = (keys: ReadonlyArray<Uint8Array>): Invalid => {
  for (const k of keys) {
    const bad = checkKey(k, "key")
    if (bad !== undefined) return bad
  }
  return undefined
}

export const validateGet = (req: GetRequest): Invalid => checkKey(req.key, "key")

/** An empty start key is fine here: it means "from the first key". */
export const validateScan = (req: ScanRequest): Invalid =>
  req.startKey.length > MAX_KEY_SIZE
    ? invalid(`start key is ${req.startKey.length} bytes; the limit is ${MAX_KEY_SIZE}`)
    : req.limit > MAX_SCAN_LIMIT
      ? invalid(`scan limit ${req.limit} is over the maximum ${MAX_SCAN_LIMIT}`)
      : undefined

export const validatePrewrite = (req: PrewriteRequest): Invalid => {
  const primary = checkKey(req.primaryLock, "primary lock")
  if (primary !== undefined) return primary
  for (const m of req.mutations) {
    if (m.op !== "Put" && m.op !== "Del") return invalid(`unsupported mutation op ${m.op}`)
    const bad = checkKey(m.key, "key")
    if (bad !== undefined) return bad
    if (m.value.length > MAX_VALUE_SIZE) {
      return invalid(`value is ${m.value.length} bytes; the limit is ${MAX_VALUE_SIZE}`)
    }
  }
  return undefined
}

export const validateCommit = (req: CommitRequest): Invalid =>
  req.commitVersion <= req.startVersion
    ? invalid(`commit version ${req.commitVersion} <= start version ${req.startVersion}`)
    : checkKeys(req.keys)

export const validateCheckTxnStatus = (req: CheckTxnStatusRequest): Invalid => checkKey(req.primaryKey, "primary key")

export const validateBatchRollback = (req: BatchRollbackRequest): Invalid => checkKeys(req.keys)

/** `commitVersion` 0 means roll back; any other must follow the start timestamp. */
export const validateResolveLock = (req: ResolveLockRequest): Invalid =>
  req.commitVersion !== 0n && req.commitVersion <= req.startVersion
    ? invalid(`commit version ${req.commitVersion} <= start version ${req.startVersion}`)
    : undefined
