/**
 * The memory twin of `SegmentedLog`, for tests and the simulator: a "disk" of records that outlives each opening,
 * as a store's files outlive its process. An append is durable on return on the real log (one `fdatasync`), so
 * here every appended record survives a crash; `open` again is the restart. Records fall into segments of
 * `segmentBytes` as on disk, so releasing behaves the same.
 */
import type { LogRecord, OpenedRaftLog, RaftLogDevice } from "./device.js"

export class MemoryLogDisk {
  private records: Array<LogRecord> = []
  private sequence = 1
  private activeBytes = 0
  /** The process writing it is gone (`cut`): its appends never land, until the next `open`. */
  private cutOff = false

  constructor(private readonly segmentBytes = 64 * 1024) {}

  /** Opens the log as a restarted store would: every record appended before, through any crash. */
  open(): OpenedRaftLog {
    const disk = this
    this.cutOff = false
    const device: RaftLogDevice = {
      append: (payloads) => {
        if (disk.cutOff) return
        const bytes = payloads.reduce((n, p) => n + p.length, 0)
        if (disk.activeBytes > 0 && disk.activeBytes + bytes > disk.segmentBytes) {
          disk.sequence++
          disk.activeBytes = 0
        }
        disk.activeBytes += bytes
        // copies: the caller may reuse its buffers, and a file would not see later changes either
        for (const p of payloads) disk.records.push({ sequence: disk.sequence, payload: p.slice() })
      },
      release: (sequence) => {
        const before = Math.min(sequence, disk.sequence)
        disk.records = disk.records.filter((r) => r.sequence >= before)
      },
      get activeSequence() {
        return disk.sequence
      },
      close: () => {}
    }
    return { device, records: [...this.records] }
  }

  /** The records as they are, for reading them without a store (its device refuses appends). */
  peek(): OpenedRaftLog {
    const refuse = () => {
      throw new Error("a peeked raft log is read-only")
    }
    return {
      device: { append: refuse, release: refuse, activeSequence: this.sequence, close: () => {} },
      records: [...this.records]
    }
  }

  /**
   * The store writing the log stops here, as a killed process does: an append it was still to make (the last part
   * of a write it had begun) never lands. The simulator's crashes cut a write apart this way.
   */
  cut(): void {
    this.cutOff = true
  }

  /** Segments holding records (the active one included). */
  get liveSegments(): number {
    return new Set(this.records.map((r) => r.sequence)).size
  }

  /** Bytes of all records kept. */
  get bytes(): number {
    return this.records.reduce((n, r) => n + r.payload.length, 0)
  }
}
