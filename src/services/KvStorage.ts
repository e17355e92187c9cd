/**
 * KvStorage: the server-facing storage (TinyKV's `storage.Storage`), above the engines.
 *
 * Layers: standalone (engine directly, no replication), memory (standalone over the memory engine)
 * and, with the raftstore, raft (every write through the region's Raft log, every reader taken after
 * a `Snap` command applied). The `context` routes to a region; the standalone layers ignore it.
 *
 * Every call names a key space (`protocol/keyspace.ts`): raw or transactional. Keys are local to it —
 * user keys, or MVCC keys in the transactional `default`/`write` CFs — and a reader sees its space only.
 */
import { Context, type Effect, type Scope } from "effect"
import type { KvError } from "../protocol/errorpb.js"
import type { KeySpace } from "../protocol/keyspace.js"
import type { Context as RequestContext } from "../protocol/kvrpc.js"
import type { Cf, KeyValue } from "./Storage.js"

export type Modify =
  | { readonly _tag: "Put"; readonly cf: Cf; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly _tag: "Delete"; readonly cf: Cf; readonly key: Uint8Array }

/** A consistent snapshot of the column families (TinyKV `StorageReader`). Synchronous; see Storage.ts. */
export interface KvReader {
  /** The value, or `undefined` when the key is absent. */
  readonly getCF: (cf: Cf, key: Uint8Array) => Uint8Array | undefined
  /** Ascending from `start` (inclusive) to `end` (exclusive; absent = unbounded). */
  readonly iterCF: (cf: Cf, start: Uint8Array, end?: Uint8Array) => IterableIterator<KeyValue>
  /**
   * Replicated storage only: the leader's term the snapshot was read in. A write decided from this reader
   * names it (the request context's `term`), so that it is refused (`StaleCommand`) if another leader may
   * have written since the read.
   */
  readonly term?: number | undefined
}

export class KvStorage extends Context.Tag("tinykv/KvStorage")<
  KvStorage,
  {
    /** Applies the batch atomically and durably; succeeds only once it is committed (and applied). */
    readonly write: (
      context: RequestContext | undefined,
      space: KeySpace,
      batch: ReadonlyArray<Modify>
    ) => Effect.Effect<void, KvError>
    /** A snapshot reader of `space` that reflects every write acknowledged before the call; closed with the scope. */
    readonly reader: (
      context: RequestContext | undefined,
      space: KeySpace
    ) => Effect.Effect<KvReader, KvError, Scope.Scope>
    /**
     * `f` on such a reader in one synchronous call, when the storage can take it at once without waiting on
     * anything (the raft layer: a leader's local read under its lease); undefined otherwise, and then `reader`
     * is the way. For the store's fast lane (`server/fastLane.ts`). `f` must not keep the reader.
     */
    /**
     * `write` started in one synchronous call, when the storage can take it at once (the raft layer: the
     * region has a live peer here); `done` is then called once with its outcome (undefined: committed and
     * applied) and true is returned. False, with nothing written, otherwise: `write` is then the way. For the
     * store's fast lane (`server/fastWrites.ts`). `done` must not throw.
     */
    readonly writeNow?: (
      context: RequestContext | undefined,
      space: KeySpace,
      batch: ReadonlyArray<Modify>,
      done: (error: KvError | undefined) => void
    ) => boolean
    readonly readNow?: <A>(
      context: RequestContext | undefined,
      space: KeySpace,
      f: (reader: KvReader) => A
    ) => { readonly value: A } | undefined
  }
>() {}
