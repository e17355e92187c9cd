/** What the raft-logged engine (`layers/storageRaftLogged.ts`) needs of a log: `SegmentedLog` and its memory twin. */

export interface LogRecord {
  /** The segment it was read from. */
  readonly sequence: number
  readonly payload: Uint8Array
}

export interface RaftLogDevice {
  /** Appends `payloads` as records, durable on return. */
  readonly append: (payloads: ReadonlyArray<Uint8Array>) => void
  /** The records of segments before `sequence` are no longer needed. */
  readonly release: (sequence: number) => void
  /** The segment appends go to now. */
  readonly activeSequence: number
  readonly close: () => void
}

export interface OpenedRaftLog {
  readonly device: RaftLogDevice
  /** Every record of the live segments, in order. */
  readonly records: ReadonlyArray<LogRecord>
}
