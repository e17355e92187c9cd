/**
 * Storage: the store's engine — ordered byte-wise key spaces, atomic write batches, snapshot readers.
 *
 * Spaces: the three key-value column families (`default`, `lock`, `write`), `meta` for the
 * store-local state kept beside the data (apply state, region state, store ident) and `raft` for the
 * Raft log and raft state. All spaces live in one engine so a single batch can update data and apply
 * state atomically (TinyKV needs two badger instances and orders their writes instead).
 *
 * Reads through an `EngineReader` are synchronous: both engines (lmdb, memory) answer from memory
 * maps without IO, and the Percolator code does many point seeks where a Promise per seek would cost
 * more than the seek. Only acquiring a snapshot and writing are
 * Effects.
 */
import { Context, Effect, type Scope } from "effect"
import { type DiskFull, StorageError } from "../protocol/errorpb.js"

export const CF_DEFAULT = "default"
export const CF_LOCK = "lock"
export const CF_WRITE = "write"
/** The column families a client may name. */
export const CFS = [CF_DEFAULT, CF_LOCK, CF_WRITE] as const
export type Cf = (typeof CFS)[number]
export const isCf = (s: string): s is Cf => (CFS as ReadonlyArray<string>).includes(s)

export const SPACES = [...CFS, "meta", "raft"] as const
export type Space = (typeof SPACES)[number]

export interface KeyValue {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/** `[start, end)`; an absent `start` means the first key, an absent or empty `end` the end of the space. */
export interface ScanRange {
  readonly start?: Uint8Array | undefined
  readonly end?: Uint8Array | undefined
  readonly limit?: number | undefined
}

/**
 * `afterData`, on a `raft` op: it must not become durable before the batch's ops on the other spaces (a log
 * compaction, or a snapshot's or a removal's clearing of a log, must not outlive a crash that loses the applied
 * index they follow). An engine that writes the whole batch in one transaction meets it by doing so; one whose
 * raft space is a log of its own orders its writes by it (`layers/storageRaftLogged.ts`).
 */
export type WriteOp =
  | {
      readonly _tag: "Put"
      readonly space: Space
      readonly key: Uint8Array
      readonly value: Uint8Array
      readonly afterData?: boolean
    }
  | { readonly _tag: "Delete"; readonly space: Space; readonly key: Uint8Array; readonly afterData?: boolean }
  /** Removes every key in `[start, end)` of the space; an empty `end` means to the end of the space. */
  | {
      readonly _tag: "DeleteRange"
      readonly space: Space
      readonly start: Uint8Array
      readonly end: Uint8Array
      readonly afterData?: boolean
    }

/** A consistent point-in-time view; every call sees the same state until the owning scope closes. */
export interface EngineReader {
  readonly get: (space: Space, key: Uint8Array) => Uint8Array | undefined
  /** Keys in ascending byte order. The iterator is only valid while the reader's scope is open. */
  readonly scan: (space: Space, range?: ScanRange) => IterableIterator<KeyValue>
}

export interface WriteOptions {
  /** Durable on return (fsync). Raft state and anything acknowledged to a client must be synced. */
  readonly sync: boolean
  /**
   * The caller has nothing to do until the write is done (a follower's round: the acknowledgement it owes
   * waits for this write, and nothing of the round runs beside it). An engine that can commit on the calling
   * thread may then do so for a larger write too (`storageLmdb.ts`). Only a hint: the write means the same
   * either way.
   */
  readonly idle?: boolean
}

export class Storage extends Context.Tag("tinykv/Storage")<
  Storage,
  {
    /** Reads one key from the latest committed state. */
    readonly get: (space: Space, key: Uint8Array) => Effect.Effect<Uint8Array | undefined, StorageError>
    /** Reads a range from the latest committed state into an array. */
    readonly scan: (space: Space, range?: ScanRange) => Effect.Effect<ReadonlyArray<KeyValue>, StorageError>
    /**
     * Applies every op or none of them, in order. `DiskFull`: the engine had no room (its quota, a full
     * map, ENOSPC) and wrote nothing — the same batch may be tried again once space is freed.
     */
    readonly write: (
      ops: ReadonlyArray<WriteOp>,
      options?: WriteOptions
    ) => Effect.Effect<void, StorageError | DiskFull>
    /**
     * Why client writes should be refused now (the engine is at or near its limit, or its last write found
     * no room), or `undefined` while there is room. Cheap and synchronous: asked for every proposal. The
     * engine keeps a reserve below its hard limit, so the raftstore's own writes (Raft state, applying
     * entries already in the log) still fit while client writes are refused.
     */
    readonly diskFull: () => string | undefined
    /**
     * Synchronous reads of the latest committed state (no snapshot: each call sees the newest data). For the
     * raftstore's log reads inside a Raft step, which must not yield.
     */
    readonly latest: EngineReader
    /** Opens a snapshot reader that lives until the enclosing scope closes. */
    readonly snapshot: Effect.Effect<EngineReader, StorageError, Scope.Scope>
    /**
     * Runs `f` on a snapshot opened just before and released just after it, in one synchronous call: for the
     * hot reads that finish within it (`raftstore/localReader.ts`), without a scope or a fiber. `f` must not
     * keep the reader or an iterator of it. Throws `StorageError` when no snapshot can be opened.
     */
    readonly readNow: <A>(f: (reader: EngineReader) => A) => A
    /** Where the engine keeps its files, or `undefined` for the memory engine. */
    readonly path: string | undefined
    /**
     * The `raft` space is a log of its own (`layers/storageRaftLogged.ts`): its writes are durable on return
     * whatever `sync` says, and durable before the rest of their batch (but the `afterData` ops, after it). The
     * raftstore then syncs a round's other writes only when it must (a restart applies again what they lose).
     */
    readonly logsRaft?: boolean
  }
>() {}

/** LMDB's limit; every engine enforces it so a batch behaves the same on all of them. */
export const MAX_ENGINE_KEY_SIZE = 1978

/** Why the op cannot be stored, or `undefined` when it can. Engines check a whole batch before applying any of it. */
export const invalidOp = (op: WriteOp): string | undefined => {
  const keys = op._tag === "DeleteRange" ? [op.start] : [op.key]
  for (const k of keys) {
    if (k.length === 0) return `empty key in ${op._tag} on ${op.space}`
    if (k.length > MAX_ENGINE_KEY_SIZE)
      return `key of ${k.length} bytes in ${op._tag} on ${op.space} (max ${MAX_ENGINE_KEY_SIZE})`
  }
  return undefined
}

/**
 * For writers whose callers know only `StorageError` (the scheduler's state, the TSO, a store's bootstrap
 * and peer creation): to them, no room is one more way for the engine to fail.
 */
export const orStorageError = <A, R>(
  write: Effect.Effect<A, StorageError | DiskFull, R>
): Effect.Effect<A, StorageError, R> =>
  Effect.catchTag(write, "DiskFull", (e) => Effect.fail(new StorageError({ message: e.message })))
