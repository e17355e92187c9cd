/**
 * Apply-only writes held back to ride with the RaftWorker's next write (etcd's backend batches its applies
 * the same way; TiKV does not sync its applies either). docs/PERFORMANCE.md "Applies that ride with the next
 * write" has the measurements.
 *
 * Why: with lmdb's overlapping sync every commit takes its turn at the disk, synced or not — an "unsynced"
 * commit still waits for the flush before it and is flushed after. A leader under sequential puts made two
 * commits per put (its log append, then the apply of the entry once committed), and the next put's round
 * waited behind the apply's commit before it could even send its appends. Held back, the apply goes into
 * the next put's log write: one commit per put.
 *
 * Why it is safe — held back, the ops are exactly an unsynced write that has not reached the engine yet:
 * - Nothing acknowledged depends on them: the entries they apply are committed, so durable in a quorum's
 *   logs, and the applied index is among the held-back ops, so a crash that loses them loses the index with
 *   them and the restart applies the same entries again from the log (as after any unsynced write lost).
 * - Order is kept: every later write of the worker carries them first, in one transaction.
 * - The RaftWorker's own reads (apply's `Get`, a snapshot built for a follower, a raft log lookup, a peer
 *   loaded from disk) read through this reader, which sees them at once.
 * - Readers of the engine outside a round see the state before them, never a state the store did not
 *   reach: the apply state is held back with its data. The lease reader (`localReader.ts`) lays the ops held
 *   back at the moment it opens its snapshot over that snapshot (`over`): what is held back is newer than
 *   anything the engine has, and the StoreWorker, the one other writer, writes only regions new to the store.
 *   A round with replies waiting for a snapshot writes what is held back first.
 *
 * Only the RaftWorker changes it, inside a round (rounds are sequential): the ops are cleared after the
 * write that carries them succeeds, so they stay visible while it is in flight.
 */
import { compareBytes, toLatin1 } from "../protocol/bytes.js"
import type { EngineReader, KeyValue, ScanRange, Space, WriteOp } from "../services/Storage.js"

/** Held-back ops at most: a round that would exceed it writes everything instead (bounds the memory). */
export const MAX_DEFERRED_OPS = 4096

interface Latest {
  readonly space: Space
  readonly key: Uint8Array
  /** undefined: deleted */
  readonly value: Uint8Array | undefined
}

const inRange = (key: Uint8Array, range: ScanRange | undefined): boolean =>
  (range?.start === undefined || range.start.length === 0 || compareBytes(key, range.start) >= 0) &&
  (range?.end === undefined || range.end.length === 0 || compareBytes(key, range.end) < 0)

export class DeferredWrites implements EngineReader {
  private held: Array<WriteOp> = []
  /** The newest held-back value of each key, by `space` + NUL + the key's latin1 string. */
  private readonly latest = new Map<string, Latest>()
  /** How many keys of each space are held back (a scan of a space with none reads the engine alone). */
  private readonly perSpace = new Map<Space, number>()
  /** See `generation`. */
  private writes = 0

  constructor(private readonly engine: EngineReader) {}

  /** The ops held back, oldest first. */
  get ops(): ReadonlyArray<WriteOp> {
    return this.held
  }

  get size(): number {
    return this.held.length
  }

  /** Whether `ops` may be held back: point writes only, and room for them. */
  accepts(ops: ReadonlyArray<WriteOp>): boolean {
    return this.held.length + ops.length <= MAX_DEFERRED_OPS && ops.every((op) => op._tag !== "DeleteRange")
  }

  /** Holds `ops` back (the caller checked `accepts`). */
  defer(ops: ReadonlyArray<WriteOp>): void {
    for (const op of ops) {
      if (op._tag === "DeleteRange") throw new Error("a range delete cannot be held back")
      const id = `${op.space}\u0000${toLatin1(op.key)}`
      if (!this.latest.has(id)) this.perSpace.set(op.space, (this.perSpace.get(op.space) ?? 0) + 1)
      this.latest.set(id, { space: op.space, key: op.key, value: op._tag === "Put" ? op.value : undefined })
      this.held.push(op)
    }
  }

  /**
   * How many times held-back ops reached the engine. A reader that opens an engine snapshot and lays the held-back
   * ops over it later (not in the same synchronous step) checks it did not change meanwhile: had it, the snapshot
   * may lack ops that are no longer held back.
   */
  get generation(): number {
    return this.writes
  }

  /** The ops held back on `space`, oldest first. */
  heldIn(space: Space): ReadonlyArray<WriteOp> {
    return (this.perSpace.get(space) ?? 0) === 0 ? [] : this.held.filter((op) => op.space === space)
  }

  /** The held-back ops on `space` reached the engine by themselves (the others stay held back). */
  writtenIn(space: Space): void {
    if ((this.perSpace.get(space) ?? 0) === 0) return
    // as for `written`: a reader that laid the held-back ops over an older snapshot would now miss these
    this.writes++
    this.held = this.held.filter((op) => op.space !== space)
    for (const [id, l] of this.latest) if (l.space === space) this.latest.delete(id)
    this.perSpace.delete(space)
  }

  /** The held-back ops reached the engine (the write that carried them succeeded). */
  written(): void {
    this.writes++
    this.held = []
    this.latest.clear()
    this.perSpace.clear()
  }

  /**
   * `reader` (an engine snapshot taken now) with the ops held back now laid over it: the store's latest state,
   * for a reader outside the worker (`localReader.ts`). A copy: later rounds change nothing of it.
   */
  over(reader: EngineReader): EngineReader {
    if (this.held.length === 0) return reader
    const view = new DeferredWrites(reader)
    view.defer(this.held)
    return view
  }

  get(space: Space, key: Uint8Array): Uint8Array | undefined {
    if (this.held.length > 0) {
      const l = this.latest.get(`${space}\u0000${toLatin1(key)}`)
      if (l !== undefined) return l.value
    }
    return this.engine.get(space, key)
  }

  scan(space: Space, range?: ScanRange): IterableIterator<KeyValue> {
    if ((this.perSpace.get(space) ?? 0) === 0) return this.engine.scan(space, range)
    const held: Array<Latest> = []
    for (const l of this.latest.values()) if (l.space === space && inRange(l.key, range)) held.push(l)
    held.sort((a, b) => compareBytes(a.key, b.key))
    return merge(this.engine.scan(space, { start: range?.start, end: range?.end }), held, range?.limit)
  }
}

/** The engine's keys with the held-back ones laid over them, in key order, up to `limit`. */
function* merge(
  engine: IterableIterator<KeyValue>,
  held: ReadonlyArray<Latest>,
  limit: number | undefined
): IterableIterator<KeyValue> {
  let n = 0
  let i = 0
  let e = engine.next()
  try {
    yield* mergeLoop()
  } finally {
    // a scan stopped early (its limit, or its reader) lets the engine's iterator go too
    engine.return?.()
  }
  function* mergeLoop(): IterableIterator<KeyValue> {
    while (limit === undefined || n < limit) {
      const h = held[i]
      if (e.done === true && h === undefined) return
      const order = e.done === true ? 1 : h === undefined ? -1 : compareBytes(e.value.key, h.key)
      if (order < 0) {
        yield e.value
        n++
        e = engine.next()
        continue
      }
      // the held-back value replaces the engine's (or hides it, when deleted)
      if (order === 0) e = engine.next()
      i++
      if (h!.value !== undefined) {
        yield { key: h!.key, value: h!.value }
        n++
      }
    }
  }
}
