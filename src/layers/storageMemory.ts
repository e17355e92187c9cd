/**
 * The memory engine: the reference implementation of `Storage`, for tests and simulation.
 *
 * Each space is a sorted array of latin1 keys plus a map of values. Snapshots are copy-on-write: a
 * snapshot marks the current arrays shared, and the next write to a shared space copies it first,
 * so readers never see later writes and need no locking. An engine outlives the layers built on it
 * (`layerMemoryFrom`), which is how a simulated store "crashes" and restarts on the same data.
 *
 * With `modelSync`, the engine also keeps what a real disk would hold: the state as of its last synced
 * write (an fsync makes every earlier write durable too). `crash()` throws away every write since, which is
 * how the simulator checks that nothing acknowledged depended on an unsynced write. The durable copy is a
 * copy-on-write snapshot taken at each synced write, so it costs a copy of each space written in between.
 *
 * With `quotaBytes`, the engine plays a small disk: it counts the bytes of its keys and values, refuses a
 * batch that would take it past the quota (`DiskFull`, nothing written), and reports itself full
 * (`Storage.diskFull`) once less than `reserveBytes` is left, so client writes stop before the raftstore's
 * own writes do. `setQuota` frees (or takes) space at run time, as deleting a file on a real disk would.
 */
import { Effect, Layer } from "effect"
import { fromLatin1, toLatin1 } from "../protocol/bytes.js"
import { DiskFull, StorageError } from "../protocol/errorpb.js"
import {
  type EngineReader,
  invalidOp,
  type KeyValue,
  type ScanRange,
  SPACES,
  type Space,
  Storage,
  type WriteOp
} from "../services/Storage.js"

interface SpaceData {
  keys: Array<string>
  values: Map<string, Uint8Array>
  /** A snapshot holds these arrays: copy before mutating. */
  shared: boolean
}

const lowerBound = (keys: ReadonlyArray<string>, k: string): number => {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid]! < k) lo = mid + 1
    else hi = mid
  }
  return lo
}

function* scanSpace(data: SpaceData, range: ScanRange | undefined): IterableIterator<KeyValue> {
  const { keys, values } = data
  const end = range?.end !== undefined && range.end.length > 0 ? toLatin1(range.end) : undefined
  const limit = range?.limit ?? Number.POSITIVE_INFINITY
  let count = 0
  for (let i = range?.start ? lowerBound(keys, toLatin1(range.start)) : 0; i < keys.length && count < limit; i++) {
    const k = keys[i]!
    if (end !== undefined && k >= end) return
    count++
    yield { key: fromLatin1(k), value: values.get(k)! }
  }
}

export interface MemoryEngineOptions {
  /** Keep the state as of the last synced write, for `crash()` (default false). */
  readonly modelSync?: boolean
  /**
   * A deliberately broken disk for the simulator's self-test: `sync` is ignored, so nothing written ever
   * becomes durable and `crash()` loses it all — a store that acknowledges before fsync.
   */
  readonly brokenSync?: boolean
  /** The engine's "disk": keys and values together may take at most this many bytes (default: unlimited). */
  readonly quotaBytes?: number
  /** Below the quota, the room kept for the raftstore's own writes (default: a tenth of the quota). */
  readonly reserveBytes?: number
}

/** What a key and its value take of the quota. */
const entryBytes = (key: string, value: Uint8Array): number => key.length + value.length

/** An in-memory engine whose data survives the layers built over it. */
export class MemoryEngine {
  private spaces = new Map<Space, SpaceData>(
    SPACES.map((s) => [s, { keys: [], values: new Map(), shared: false }] as const)
  )
  /** The spaces as of the last synced write (only with `modelSync`). */
  private durable: Map<Space, SpaceData> | undefined
  /** Writes since the last sync, for tests of the crash model. */
  unsyncedWrites = 0
  /** Writes refused for want of room (`noRoomFor`), for tests of a full disk. */
  refusedWrites = 0

  private readonly brokenSync: boolean
  /** Bytes of every key and value held now. */
  private used = 0
  private quota: { readonly bytes: number; readonly reserve: number } | undefined

  constructor(options: MemoryEngineOptions = {}) {
    this.brokenSync = options.brokenSync ?? false
    if (options.modelSync || this.brokenSync) this.durable = this.freeze()
    this.setQuota(options.quotaBytes, options.reserveBytes)
  }

  /** Changes the engine's "disk" size (undefined: unlimited); the reserve defaults to a tenth of it. */
  setQuota(bytes: number | undefined, reserveBytes?: number): void {
    this.quota = bytes === undefined ? undefined : { bytes, reserve: reserveBytes ?? Math.floor(bytes / 10) }
  }

  /** Bytes of keys and values the engine holds. */
  get usedBytes(): number {
    return this.used
  }

  /** Why a client write should be refused now (see `Storage.diskFull`), or undefined. */
  diskFull(): string | undefined {
    const q = this.quota
    if (q === undefined || this.used < q.bytes - q.reserve) return undefined
    return `the engine holds ${this.used} bytes of its ${q.bytes}-byte quota (${q.reserve} reserved for raft)`
  }

  /**
   * Why `ops` cannot be written (it would take the engine past its quota), or undefined. The growth is
   * estimated: every put counts in full, a deleted key gives back what it held. A batch that frees
   * space always fits.
   */
  noRoomFor(ops: ReadonlyArray<WriteOp>): string | undefined {
    const q = this.quota
    if (q === undefined) return undefined
    let growth = 0
    for (const op of ops) {
      if (op._tag === "Put") growth += op.key.length + op.value.length
      else if (op._tag === "Delete") {
        const old = this.spaces.get(op.space)!.values.get(toLatin1(op.key))
        if (old !== undefined) growth -= op.key.length + old.length
      }
    }
    if (growth <= 0 || this.used + growth <= q.bytes) return undefined
    return `a write of ${growth} bytes does not fit: ${this.used} of the ${q.bytes}-byte quota used`
  }

  private recount(): void {
    this.used = 0
    for (const d of this.spaces.values()) for (const [k, v] of d.values) this.used += entryBytes(k, v)
  }

  /** Marks the current spaces shared and returns them (copy-on-write keeps them unchanged). */
  private freeze(): Map<Space, SpaceData> {
    const frozen = new Map<Space, SpaceData>()
    for (const [s, d] of this.spaces) {
      d.shared = true
      frozen.set(s, d)
    }
    return frozen
  }

  /** Applies a write; with `sync`, it and everything before it become durable. */
  writeSynced(ops: ReadonlyArray<WriteOp>, sync: boolean): void {
    this.write(ops)
    if (this.durable === undefined) return
    if (sync && !this.brokenSync) {
      this.durable = this.freeze()
      this.unsyncedWrites = 0
    } else this.unsyncedWrites++
  }

  /** A power loss: every write since the last synced one is gone (requires `modelSync`). */
  crash(): void {
    if (this.durable === undefined) throw new Error("crash() needs a MemoryEngine made with modelSync")
    this.spaces = new Map([...this.durable].map(([s, d]) => [s, { keys: d.keys, values: d.values, shared: true }]))
    this.durable = this.freeze()
    this.unsyncedWrites = 0
    this.recount()
  }

  private writable(space: Space): SpaceData {
    const d = this.spaces.get(space)!
    if (!d.shared) return d
    const copy: SpaceData = { keys: d.keys.slice(), values: new Map(d.values), shared: false }
    this.spaces.set(space, copy)
    return copy
  }

  get(space: Space, key: Uint8Array): Uint8Array | undefined {
    return this.spaces.get(space)!.values.get(toLatin1(key))
  }

  scan(space: Space, range?: ScanRange): IterableIterator<KeyValue> {
    return scanSpace(this.spaces.get(space)!, range)
  }

  write(ops: ReadonlyArray<WriteOp>): void {
    for (const op of ops) {
      const d = this.writable(op.space)
      switch (op._tag) {
        case "Put": {
          const k = toLatin1(op.key)
          const old = d.values.get(k)
          if (old === undefined) d.keys.splice(lowerBound(d.keys, k), 0, k)
          else this.used -= entryBytes(k, old)
          // copy: the caller may reuse its buffer
          d.values.set(k, op.value.slice())
          this.used += entryBytes(k, op.value)
          break
        }
        case "Delete": {
          const k = toLatin1(op.key)
          const old = d.values.get(k)
          if (old !== undefined) {
            this.used -= entryBytes(k, old)
            d.values.delete(k)
            d.keys.splice(lowerBound(d.keys, k), 1)
          }
          break
        }
        case "DeleteRange": {
          const from = lowerBound(d.keys, toLatin1(op.start))
          const to = op.end.length === 0 ? d.keys.length : lowerBound(d.keys, toLatin1(op.end))
          if (to > from) {
            for (const k of d.keys.splice(from, to - from)) {
              this.used -= entryBytes(k, d.values.get(k)!)
              d.values.delete(k)
            }
          }
          break
        }
      }
    }
  }

  snapshot(): EngineReader {
    const frozen = this.freeze()
    return {
      get: (space, key) => frozen.get(space)!.values.get(toLatin1(key)),
      scan: (space, range) => scanSpace(frozen.get(space)!, range)
    }
  }
}

/** A `Storage` over an existing memory engine. */
export const layerMemoryFrom = (engine: MemoryEngine): Layer.Layer<Storage> =>
  Layer.sync(Storage, () => memoryStorage(engine))

/** The `Storage` service over an existing memory engine. */
export const memoryStorage = (engine: MemoryEngine): Storage["Type"] =>
  Storage.of({
    get: (space, key) => Effect.sync(() => engine.get(space, key)),
    scan: (space, range) => Effect.sync(() => Array.from(engine.scan(space, range))),
    write: (ops, options) =>
      Effect.suspend((): Effect.Effect<void, StorageError | DiskFull> => {
        const invalid = ops.map(invalidOp).find((m) => m !== undefined)
        if (invalid !== undefined)
          return Effect.fail(new StorageError({ message: `engine write rejected: ${invalid}` }))
        const noRoom = engine.noRoomFor(ops)
        if (noRoom !== undefined) {
          engine.refusedWrites++
          return Effect.fail(new DiskFull({ reason: noRoom }))
        }
        return Effect.sync(() => engine.writeSynced(ops, options?.sync ?? false))
      }),
    diskFull: () => engine.diskFull(),
    latest: { get: (space, key) => engine.get(space, key), scan: (space, range) => engine.scan(space, range) },
    snapshot: Effect.sync(() => engine.snapshot()),
    readNow: (f) => f(engine.snapshot()),
    path: undefined
  })

/** A `Storage` over a fresh, empty memory engine. */
export const layerMemory: Layer.Layer<Storage> = Layer.suspend(() => layerMemoryFrom(new MemoryEngine()))
