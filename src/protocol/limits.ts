/** Size limits both ends of the protocol agree on. */

/** LMDB rejects keys over 1978 bytes; MVCC encoding grows a key by 1/8 plus 9 bytes, so stay well below. */
export const MAX_KEY_SIZE = 1024
/** The largest frame (one RPC message) a connection accepts; a header announcing more closes it. */
export const MAX_FRAME_SIZE = 16 * 1024 * 1024
/** A frame over 16 MiB is rejected by the transport; keep one value well inside it. */
export const MAX_VALUE_SIZE = 8 * 1024 * 1024
/** The most pairs one scan request may ask for; the client pages through longer ranges. */
export const MAX_SCAN_LIMIT = 10_000
/** A scan page stops once its pairs pass this many bytes, so a response frame stays far below 16 MiB. */
export const SCAN_BYTE_BUDGET = 4 * 1024 * 1024
/** The most keys one batch request (RawBatchGet, RawBatchPut, RawBatchDelete) may name; the client splits larger batches. */
export const MAX_BATCH_KEYS = 10_000
/** A RawDeleteRange request deletes at most this many keys (one write), then answers where to resume. */
export const DELETE_RANGE_CHUNK = 2048
