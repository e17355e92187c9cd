/**
 * An engine whose `raft` space lives in a raft log of its own (`src/raftlog/`), in front of another engine that
 * keeps every other space: TiKV's raft engine beside its kv engine.
 *
 * Why: a replicated write must be durable on a quorum before it is acknowledged, and a synced LMDB commit of one
 * round (0.3–1.0 ms, more with three stores flushing at once) was most of a sequential put's latency. One record
 * appended to a preallocated segment and one `fdatasync` takes 0.1–0.2 ms (`npm run bench -- disk`). The applied
 * data need not be synced at all: the entries are durable in the log, and a restart applies again what the other
 * engine lost (its applied index is written in the same transaction as its data, so the two never part).
 *
 * A write's ops are taken in three parts, in this order:
 * 1. the `raft` ops, appended to the log as one record: durable on return, whatever `sync` says;
 * 2. the other spaces' ops, written to the inner engine: synced if `sync` asks, or if part 3 is not empty;
 * 3. the `raft` ops marked `afterData` (a compaction, a snapshot's or a removal's clearing of a log): appended
 *    only once part 2 is durable. Such an op must not outlive a crash that loses part 2: a log compacted past
 *    the applied index a restart finds could not be applied from.
 * So after a crash the log holds a prefix of its records and the inner engine a prefix of its writes, part 1 of
 * a write is durable before its part 2, and part 2 before its part 3. A `DiskFull` of part 2 leaves part 1
 * written: the state a crash between the two leaves, which the raftstore recovers from anyway.
 *
 * The space itself is kept in memory, in a persistent ordered tree: reads never touch the log, and a snapshot
 * is the tree as it stood. It holds what the raftstore keeps of the log: the entries not yet compacted (a few
 * dozen a region, `raftLogGcThreshold`) and a raft state per region.
 *
 * The log grows until a checkpoint: once the records since the last one take more than `checkpointRatio` times
 * the space's own size (and at least `checkpointMinBytes`), the whole space is appended as one record, and every
 * segment before it released. One record, so a checkpoint is all or nothing: a torn one leaves the records
 * before it, which say the same.
 */
import { Effect, Layer, Metric, MetricBoundaries, Order, RedBlackTree } from "effect"
import { fromLatin1, toLatin1 } from "../protocol/bytes.js"
import { DiskFull, StorageError } from "../protocol/errorpb.js"
import type { OpenedRaftLog } from "../raftlog/device.js"
import { decodeRecord, encodeRecord, type LogOp } from "../raftlog/record.js"
import { SegmentedLog } from "../raftlog/segmentedLog.js"
import {
  type EngineReader,
  invalidOp,
  type KeyValue,
  type ScanRange,
  type Space,
  Storage,
  type WriteOp
} from "../services/Storage.js"
import { isNoSpace } from "./lmdbDiskSpace.js"

type Tree = RedBlackTree.RedBlackTree<string, Uint8Array>

/** With a raft log of its own, this is the fsync every acknowledged write waits for (one append per round part). */
const appendDuration = Metric.histogram(
  "tinykv_raft_log_append_duration_seconds",
  MetricBoundaries.exponential({ start: 0.00002, factor: 2, count: 18 }),
  "time one append to the raft log takes, its fdatasync included"
)

export interface RaftLoggedOptions {
  /** Checkpoint when the records since the last checkpoint exceed this many times the space's size (default 4). */
  readonly checkpointRatio?: number
  /** ... and at least this many bytes (default 16 MiB). */
  readonly checkpointMinBytes?: number
  /**
   * Runs between a write's data and its `afterData` log ops, given those ops (default: a yield). The simulator
   * waits a little (virtual) time there, so that its crashes can land in that window, as on a real machine, and
   * can hold a write there to crash its store (`testing/afterDataTrap.ts`).
   */
  readonly beforeAfterData?: (after: ReadonlyArray<WriteOp>) => Effect.Effect<void>
}

const DEFAULT_CHECKPOINT_RATIO = 4
const DEFAULT_CHECKPOINT_MIN_BYTES = 16 * 1024 * 1024

const entryBytes = (key: string, value: Uint8Array) => key.length + value.length

/** The space's keys in `[start, end)` of `tree`, in order. */
function* rangeOf(tree: Tree, range: ScanRange | undefined): IterableIterator<KeyValue> {
  const end = range?.end !== undefined && range.end.length > 0 ? toLatin1(range.end) : undefined
  const limit = range?.limit ?? Number.POSITIVE_INFINITY
  const from: Iterable<readonly [string, Uint8Array]> =
    range?.start !== undefined && range.start.length > 0
      ? RedBlackTree.greaterThanEqual(tree, toLatin1(range.start))
      : tree
  let count = 0
  for (const [key, value] of from) {
    if (count >= limit) return
    if (end !== undefined && key >= end) return
    count++
    yield { key: fromLatin1(key), value }
  }
}

const getIn = (tree: Tree, key: Uint8Array): Uint8Array | undefined => {
  const found = RedBlackTree.findFirst(tree, toLatin1(key))
  return found._tag === "Some" ? found.value : undefined
}

/** The raft space in memory: the tree, and the bytes its keys and values take. */
class RaftSpace {
  tree: Tree = RedBlackTree.empty<string, Uint8Array>(Order.string)
  bytes = 0

  apply(op: LogOp): void {
    if (op._tag === "Put") {
      const key = toLatin1(op.key)
      this.remove(key)
      // a copy: the caller may reuse its buffer after the write
      const value = op.value.slice()
      this.tree = RedBlackTree.insert(this.tree, key, value)
      this.bytes += entryBytes(key, value)
    } else if (op._tag === "Delete") this.remove(toLatin1(op.key))
    else {
      const keys = Array.from(rangeOf(this.tree, { start: op.start, end: op.end }), (kv) => toLatin1(kv.key))
      for (const k of keys) this.remove(k)
    }
  }

  clear(): void {
    this.tree = RedBlackTree.empty<string, Uint8Array>(Order.string)
    this.bytes = 0
  }

  private remove(key: string): void {
    const old = RedBlackTree.findFirst(this.tree, key)
    if (old._tag === "None") return
    this.tree = RedBlackTree.removeFirst(this.tree, key)
    this.bytes -= entryBytes(key, old.value)
  }
}

const failWith = (what: string) => (cause: unknown) =>
  new StorageError({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

/**
 * `inner` with its `raft` space moved to the log `opened` (whose records are replayed here first). The log is
 * closed by the caller.
 */
export const raftLogged = (
  inner: Storage["Type"],
  opened: OpenedRaftLog,
  options: RaftLoggedOptions = {}
): Storage["Type"] => {
  const ratio = options.checkpointRatio ?? DEFAULT_CHECKPOINT_RATIO
  const minBytes = options.checkpointMinBytes ?? DEFAULT_CHECKPOINT_MIN_BYTES
  const beforeAfterData = options.beforeAfterData ?? (() => Effect.yieldNow())
  const space = new RaftSpace()
  const { device } = opened
  let sinceCheckpoint = 0
  for (const record of opened.records) {
    const body = decodeRecord(record.payload)
    if (body.checkpoint) {
      space.clear()
      sinceCheckpoint = 0
    }
    for (const op of body.ops) space.apply(op)
    sinceCheckpoint += record.payload.length
  }

  const checkpoint = () => {
    const ops: Array<LogOp> = []
    RedBlackTree.forEach(space.tree, (key, value) => ops.push({ _tag: "Put", key: fromLatin1(key), value }))
    const payload = encodeRecord({ checkpoint: true, ops })
    device.append([payload])
    // everything before the checkpoint's segment is void (recovery starts over at the checkpoint anyway)
    device.release(device.activeSequence)
    sinceCheckpoint = payload.length
  }

  /** Appends `ops` as one record and applies them to the space. */
  const log = (ops: ReadonlyArray<WriteOp>) => {
    if (ops.length === 0) return
    // a write op is a log op as it is (its `space` is "raft", and the record does not keep it)
    const payload = encodeRecord({ checkpoint: false, ops })
    device.append([payload])
    for (const op of ops) space.apply(op)
    sinceCheckpoint += payload.length
    if (sinceCheckpoint > Math.max(minBytes, ratio * space.bytes)) checkpoint()
  }

  const reader = (tree: () => Tree, other: EngineReader): EngineReader => ({
    get: (s, key) => (s === "raft" ? getIn(tree(), key) : other.get(s, key)),
    scan: (s, range) => (s === "raft" ? rangeOf(tree(), range) : other.scan(s, range))
  })

  return Storage.of({
    ...inner,
    logsRaft: true,
    get: (s: Space, key) => (s === "raft" ? Effect.sync(() => getIn(space.tree, key)) : inner.get(s, key)),
    scan: (s: Space, range) =>
      s === "raft" ? Effect.sync(() => Array.from(rangeOf(space.tree, range))) : inner.scan(s, range),
    write: (ops, writeOptions) =>
      Effect.suspend(() => {
        const invalid = ops.map(invalidOp).find((m) => m !== undefined)
        if (invalid !== undefined)
          return Effect.fail(new StorageError({ message: `engine write failed: rejected: ${invalid}` }))
        const first: Array<WriteOp> = []
        const data: Array<WriteOp> = []
        const after: Array<WriteOp> = []
        for (const op of ops) {
          if (op.space !== "raft") data.push(op)
          else if (op.afterData === true) after.push(op)
          else first.push(op)
        }
        const append = (part: ReadonlyArray<WriteOp>) =>
          part.length === 0
            ? Effect.void
            : Effect.try({
                try: () => {
                  const started = performance.now()
                  log(part)
                  appendDuration.unsafeUpdate((performance.now() - started) / 1000, [])
                },
                // a roll found no room for its new segment (appends within one never need any): nothing of this
                // part was written, and the round tries again once space is freed
                catch: (cause) =>
                  isNoSpace(cause)
                    ? new DiskFull({ reason: `no room for a raft log segment: ${String(cause)}` })
                    : failWith("raft log append failed")(cause)
              })
        const sync = writeOptions?.sync === true || after.length > 0
        const dataPart = data.length > 0 || sync ? inner.write(data, { ...writeOptions, sync }) : Effect.void
        return Effect.zipRight(
          append(first),
          after.length === 0
            ? dataPart
            : Effect.zipRight(dataPart, Effect.zipRight(beforeAfterData(after), append(after)))
        )
      }),
    latest: reader(() => space.tree, inner.latest),
    snapshot: Effect.map(inner.snapshot, (other) => {
      const tree = space.tree
      return reader(() => tree, other)
    }),
    readNow: (f) => {
      const tree = space.tree
      return inner.readNow((other) => f(reader(() => tree, other)))
    }
  })
}

/**
 * `inner` with its raft space in the log `open` opens (when the layer is built) and closes (when it is released).
 * A raft space `inner` still holds (a store that kept its log in the engine before) moves to the log first: copied,
 * then deleted from `inner` with a sync. A crash between the two copies it again at the next start, and nothing
 * has written the log meanwhile.
 */
export const layerRaftLogged = <E, R>(
  open: () => OpenedRaftLog,
  inner: Layer.Layer<Storage, E, R>,
  options: RaftLoggedOptions = {}
): Layer.Layer<Storage, E | StorageError, R> =>
  Layer.scoped(
    Storage,
    Effect.gen(function* () {
      const engine = yield* Storage
      const opened = yield* Effect.acquireRelease(
        Effect.try({ try: open, catch: failWith("cannot open the raft log") }),
        (o) => Effect.sync(() => o.device.close())
      )
      const logged = yield* Effect.try({
        try: () => raftLogged(engine, opened, options),
        catch: failWith("cannot replay the raft log")
      })
      const left = Array.from(engine.latest.scan("raft"), (kv): WriteOp => ({ _tag: "Put", space: "raft", ...kv }))
      if (left.length > 0) {
        yield* Effect.orDie(logged.write(left, { sync: true }))
        yield* Effect.orDie(
          engine.write([{ _tag: "DeleteRange", space: "raft", start: WHOLE_SPACE_START, end: new Uint8Array() }], {
            sync: true
          })
        )
        yield* Effect.logInfo(`moved ${left.length} keys of the engine's raft space to the raft log`)
      }
      return logged
    })
  ).pipe(Layer.provide(inner))

/** Below every key (keys are never empty). */
const WHOLE_SPACE_START = new Uint8Array([0])

/**
 * `inner` as it is, but refusing to start over a raft log of its own in `dir`: a store that kept its raft log
 * there would find none in the engine, and start as if it had never written one.
 */
export const refuseRaftLog = (dir: string): Layer.Layer<Storage, StorageError, Storage> =>
  Layer.effect(
    Storage,
    Effect.flatMap(Storage, (engine) =>
      SegmentedLog.existsIn(dir)
        ? Effect.fail(
            new StorageError({
              message: `${dir} holds this store's raft log: start it with --raft-engine log, not lmdb`
            })
          )
        : Effect.succeed(engine)
    )
  )
