/**
 * A raft log's segments in one directory: appends go to the active segment and roll to the next when it is full;
 * segments the caller no longer needs are released, and their files reused for later segments. The second
 * building block of the raft log of its own (`segment.ts` is the first; `layers/storageRaftLogged.ts` uses them).
 *
 * Files: a live segment is `<sequence, 16 digits>.log`; a released one kept for reuse is `free-<n>.log`. Opening
 * reads every live segment in sequence order; the last is the active one, and only it can end in a torn append.
 *
 * Why a roll syncs the directory before the first append to the new segment: the new file (or the free one renamed
 * to it) must exist after a crash, or records acknowledged in it would vanish with its name.
 *
 * Why reused files: a segment's appends are cheap because they overwrite blocks the file has already written
 * (`segment.ts`). A new segment pays a zero-fill once; a reused one does not.
 *
 * A release is not synced: after a crash, a released segment may be read again as live. The caller's records must
 * let it tell what it had released (a raft log's records carry their indexes and truncations, so replaying an
 * obsolete one changes nothing).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync } from "node:fs"
import { join } from "node:path"
import type { LogRecord, OpenedRaftLog } from "./device.js"
import { recordBytes, Segment } from "./segment.js"

export type { LogRecord } from "./device.js"

export interface SegmentedLogOptions {
  /** A new segment's size; a single append larger than this gets a segment of its own size. */
  readonly segmentBytes: number
  /** Released segment files kept for reuse (default 2); the others are deleted. */
  readonly keepFree?: number
}

const LIVE = /^(\d{16})\.log$/
const FREE = /^free-(\d+)\.log$/

const liveName = (sequence: number) => `${String(sequence).padStart(16, "0")}.log`

/** Makes the directory's entries (a created or renamed file) durable. */
const syncDirectory = (dir: string): void => {
  const fd = openSync(dir, "r")
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export class SegmentedLog {
  private constructor(
    private readonly dir: string,
    private readonly options: SegmentedLogOptions,
    private active: Segment,
    /** Live segments before the active one, in order. */
    private readonly closed: Array<number>,
    /** Released files kept for reuse: name and size. */
    private readonly free: Array<{ readonly name: string; readonly bytes: number }>,
    private nextFreeId: number
  ) {}

  /** Opens (or creates) the log in `dir`: the log, and every record of its live segments in order. */
  static open(
    dir: string,
    options: SegmentedLogOptions
  ): { readonly log: SegmentedLog; readonly records: Array<LogRecord> } {
    if (!Number.isInteger(options.segmentBytes) || options.segmentBytes < 64) {
      throw new Error(`segmentBytes: expected an integer of at least 64, got ${options.segmentBytes}`)
    }
    mkdirSync(dir, { recursive: true })
    const names = readdirSync(dir)
    const live = names
      .map((n) => LIVE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
    const free = names.filter((n) => FREE.test(n)).map((name) => ({ name, bytes: statSync(join(dir, name)).size }))
    const nextFreeId = Math.max(0, ...free.map((f) => Number(FREE.exec(f.name)![1]))) + 1
    const records: Array<LogRecord> = []
    if (live.length === 0) {
      const active = Segment.create(join(dir, liveName(1)), 1, options.segmentBytes)
      syncDirectory(dir)
      return { log: new SegmentedLog(dir, options, active, [], free, nextFreeId), records }
    }
    let active: Segment | undefined
    for (const sequence of live) {
      const opened = Segment.open(join(dir, liveName(sequence)), sequence)
      for (const payload of opened.records) records.push({ sequence, payload })
      if (sequence === live[live.length - 1]) active = opened.segment
      else opened.segment.close()
    }
    return { log: new SegmentedLog(dir, options, active!, live.slice(0, -1), free, nextFreeId), records }
  }

  /** Whether a log was opened in `dir` (it has a live segment: opening creates the first). */
  static existsIn(dir: string): boolean {
    try {
      return readdirSync(dir).some((n) => LIVE.test(n))
    } catch {
      return false
    }
  }

  /** `open`, as the raft-logged engine takes a log (`layers/storageRaftLogged.ts`). */
  static openDevice(dir: string, options: SegmentedLogOptions): OpenedRaftLog {
    const { log, records } = SegmentedLog.open(dir, options)
    return { device: log, records }
  }

  /** The sequence of the segment appends go to. */
  get activeSequence(): number {
    return this.active.sequence
  }

  /** Bytes of whole records in the active segment. */
  get activeSize(): number {
    return this.active.size
  }

  /** Live segment files, the active one included. */
  get liveSegments(): number {
    return this.closed.length + 1
  }

  /** Released files kept for reuse. */
  get freeSegments(): number {
    return this.free.length
  }

  /** Appends `payloads` as records, durable on return; rolls to a new segment first when they do not fit. */
  append(payloads: ReadonlyArray<Uint8Array>): void {
    if (payloads.length === 0) return
    if (!this.active.fits(payloads)) this.roll(recordBytes(payloads))
    this.active.append(payloads)
  }

  /**
   * The segments before `sequence` (never the active one) hold nothing the caller needs: each file is kept for
   * reuse while fewer than `keepFree` are, else deleted. Not synced (see the header).
   */
  release(sequence: number): void {
    const keep = this.options.keepFree ?? 2
    while (this.closed.length > 0 && this.closed[0]! < sequence) {
      const path = join(this.dir, liveName(this.closed.shift()!))
      if (this.free.length < keep) {
        const name = `free-${this.nextFreeId++}.log`
        renameSync(path, join(this.dir, name))
        this.free.push({ name, bytes: statSync(join(this.dir, name)).size })
      } else unlinkSync(path)
    }
  }

  close(): void {
    this.active.close()
  }

  private roll(needed: number): void {
    const sequence = this.active.sequence + 1
    const capacity = Math.max(this.options.segmentBytes, needed)
    const path = join(this.dir, liveName(sequence))
    const reusable = this.free.findIndex((f) => f.bytes >= capacity)
    const next =
      reusable >= 0
        ? Segment.recycle(join(this.dir, this.free.splice(reusable, 1)[0]!.name), path, sequence)
        : Segment.create(path, sequence, capacity)
    syncDirectory(this.dir)
    this.active.close()
    this.closed.push(this.active.sequence)
    this.active = next
  }
}
