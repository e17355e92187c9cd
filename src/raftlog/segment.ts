/**
 * One segment file of a raft log of its own: checksummed records appended in place, made durable by one
 * `fdatasync` per append. The first building block of the raft log engine that is to take the raft entries and
 * states out of LMDB (docs/PERFORMANCE.md, "A follower's round on the calling thread": one synced LMDB commit of a
 * sequential put's round took 0.5–1.0 ms p50 with three stores flushing at once; a 300-byte append and
 * `fdatasync` over blocks written before, 0.09–0.22 ms). The store's engine over it: `layers/storageRaftLogged.ts`.
 *
 * Why in place: a segment is created at its full size, zero-filled and synced once, and an obsolete one is
 * recycled under a new sequence number. An append then only overwrites blocks the file already has, so its
 * `fdatasync` flushes data alone: no block is allocated and the size never changes (an append that grew the file
 * would also commit the file system's journal, as the LMDB commits that grew the data file did).
 *
 * A record: `crc32 u32 | length u32 | sequence u32 | previous u32 | payload`, little-endian. The checksum covers
 * the rest of the header and the payload; `previous` is the checksum of the record before it (0 for the first).
 * Recovery reads records from the start and stops at the first that is not whole: a zero length (never written),
 * a checksum that does not match (torn by a crash), another segment's sequence (a record of the file's life before
 * it was recycled), or a `previous` that is not the last record's checksum. Appends go on from there, over what
 * was not whole. The chain matters there: an append that crashed may have left a later record of its own whole
 * behind a torn one. A shorter append written over the torn one after the restart could leave that record right
 * after it, and without the chain a later recovery would read a record the store never finished writing as if it
 * followed the new one.
 */
import { closeSync, fdatasyncSync, fstatSync, openSync, readSync, renameSync, writeSync } from "node:fs"
import { crc32 } from "node:zlib"

const HEADER_BYTES = 16
/** Zero-filled in chunks this large when a segment is created. */
const FILL_CHUNK = 1024 * 1024

export class Segment {
  private constructor(
    private readonly fd: number,
    /** Tells this segment's records from those a recycled file still holds of its life before. */
    readonly sequence: number,
    readonly capacity: number,
    /** Where the next record goes: the end of the last whole record. */
    private end: number,
    /** The checksum of the last whole record (0: none yet), which the next one names as `previous`. */
    private last: number
  ) {}

  /** A new segment of `capacity` bytes at `path` (replacing any file there), zero-filled and synced. */
  static create(path: string, sequence: number, capacity: number): Segment {
    checkSequence(sequence)
    const fd = openSync(path, "w+")
    const zeros = Buffer.alloc(Math.min(FILL_CHUNK, capacity))
    for (let at = 0; at < capacity; at += zeros.length)
      writeSync(fd, zeros, 0, Math.min(zeros.length, capacity - at), at)
    fdatasyncSync(fd)
    return new Segment(fd, sequence, capacity, 0, 0)
  }

  /**
   * An obsolete segment file reused under a new name and `sequence`: its blocks are written already, so its
   * appends stay cheap, and the records it still holds are another sequence's, which recovery does not read.
   */
  static recycle(oldPath: string, newPath: string, sequence: number): Segment {
    checkSequence(sequence)
    renameSync(oldPath, newPath)
    const fd = openSync(newPath, "r+")
    // the first record is written over at once, so a recovery of this name never reads the old life's records
    // past it: they carry the old sequence anyway, but a zero length here ends the scan sooner
    writeSync(fd, Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0)
    fdatasyncSync(fd)
    return new Segment(fd, sequence, fstatSync(fd).size, 0, 0)
  }

  /** Opens the segment at `path` written with `sequence`; its whole records, in order, and the segment. */
  static open(path: string, sequence: number): { readonly segment: Segment; readonly records: Array<Uint8Array> } {
    checkSequence(sequence)
    const fd = openSync(path, "r+")
    const capacity = fstatSync(fd).size
    const records: Array<Uint8Array> = []
    const header = Buffer.alloc(HEADER_BYTES)
    let at = 0
    let last = 0
    while (at + HEADER_BYTES <= capacity) {
      if (readSync(fd, header, 0, HEADER_BYTES, at) < HEADER_BYTES) break
      const length = header.readUInt32LE(4)
      if (length === 0 || header.readUInt32LE(8) !== sequence || header.readUInt32LE(12) !== last) break
      if (at + HEADER_BYTES + length > capacity) break
      const record = Buffer.alloc(HEADER_BYTES + length)
      if (readSync(fd, record, 0, record.length, at) < record.length) break
      const crc = header.readUInt32LE(0)
      if (crc32(record.subarray(4)) !== crc) break
      records.push(new Uint8Array(record.buffer, record.byteOffset + HEADER_BYTES, length))
      at += record.length
      last = crc
    }
    return { segment: new Segment(fd, sequence, capacity, at, last), records }
  }

  /** Bytes of whole records in the segment. */
  get size(): number {
    return this.end
  }

  /** Whether `payloads` would fit after the records already in the segment. */
  fits(payloads: ReadonlyArray<Uint8Array>): boolean {
    return this.end + recordBytes(payloads) <= this.capacity
  }

  /**
   * Appends `payloads` as records, in one write, and makes them durable (`fdatasync`) before it returns. Throws
   * when they do not fit (`fits`) or a payload is empty (a zero length marks where records end).
   */
  append(payloads: ReadonlyArray<Uint8Array>): void {
    if (payloads.length === 0) return
    if (payloads.some((p) => p.length === 0)) {
      throw new Error("an empty record cannot be appended: a zero length marks the end")
    }
    if (!this.fits(payloads)) throw new Error(`segment ${this.sequence}: ${recordBytes(payloads)} bytes do not fit`)
    const out = Buffer.alloc(recordBytes(payloads))
    let at = 0
    let last = this.last
    for (const p of payloads) {
      out.writeUInt32LE(p.length, at + 4)
      out.writeUInt32LE(this.sequence, at + 8)
      out.writeUInt32LE(last, at + 12)
      out.set(p, at + HEADER_BYTES)
      last = crc32(out.subarray(at + 4, at + HEADER_BYTES + p.length))
      out.writeUInt32LE(last, at)
      at += HEADER_BYTES + p.length
    }
    writeSync(this.fd, out, 0, out.length, this.end)
    fdatasyncSync(this.fd)
    this.end += out.length
    this.last = last
  }

  close(): void {
    closeSync(this.fd)
  }
}

/** The bytes `payloads` take in a segment, headers included. */
export const recordBytes = (payloads: ReadonlyArray<Uint8Array>): number => {
  let n = 0
  for (const p of payloads) n += HEADER_BYTES + p.length
  return n
}

const checkSequence = (sequence: number): void => {
  // 0 would let a zero-filled header pass the sequence check (its checksum still would not)
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > 0xffffffff) {
    throw new Error(`a segment's sequence is an integer from 1 to 2^32 - 1, got ${sequence}`)
  }
}
