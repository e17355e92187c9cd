/** Raft messages to send around, and helpers to wait for and compare them. */
import { Effect, Queue } from "effect"
import type { MessageType } from "../../src/protocol/eraftpb.js"
import { peerId, regionId, type StoreId, storeId } from "../../src/protocol/ids.js"
import type { RaftMessage } from "../../src/protocol/raftServer.js"

export const s1 = storeId(1)
export const s2 = storeId(2)
export const s3 = storeId(3)

export interface MessageSpec {
  readonly from: StoreId
  readonly to: StoreId
  /** Identifies the message in assertions (carried as `message.index`). */
  readonly index: number
  readonly msgType?: MessageType
  readonly entryData?: Uint8Array
  readonly snapshotData?: Uint8Array
}

export const raftMessage = (spec: MessageSpec): RaftMessage => ({
  regionId: regionId(7),
  fromPeer: { id: peerId(spec.from * 10), storeId: spec.from },
  toPeer: { id: peerId(spec.to * 10), storeId: spec.to },
  message: {
    msgType: spec.msgType ?? (spec.snapshotData === undefined ? "MsgAppend" : "MsgSnapshot"),
    to: spec.to * 10,
    from: spec.from * 10,
    term: 3,
    logTerm: 2,
    index: spec.index,
    entries:
      spec.entryData === undefined
        ? []
        : [{ entryType: "EntryNormal", term: 3, index: spec.index + 1, data: spec.entryData }],
    commit: 1,
    ...(spec.snapshotData === undefined
      ? {}
      : {
          snapshot: {
            data: spec.snapshotData,
            metadata: { confState: { nodes: [10, 20, 30] }, index: spec.index, term: 2 }
          }
        }),
    reject: false
  },
  regionEpoch: { confVer: 1, version: 1 },
  isTombstone: false
})

/** `n` messages from `from` to `to` with indexes `first`, `first + 1`, … */
export const messages = (from: StoreId, to: StoreId, n: number, first = 1): Array<RaftMessage> =>
  Array.from({ length: n }, (_, i) => raftMessage({ from, to, index: first + i }))

/** Bytes that differ from position to position, so a misplaced piece shows. */
export const patternBytes = (n: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** Byte arrays as plain number arrays (a Buffer then equals a Uint8Array), for deep comparison. */
export const plain = (v: unknown): unknown => {
  if (v instanceof Uint8Array) return { bytes: Array.from(v) }
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  }
  return v
}

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** Takes exactly `n` items from `queue`. */
export const takeN = <A>(queue: Queue.Queue<A>, n: number) =>
  Effect.gen(function* () {
    const out: Array<A> = []
    while (out.length < n) out.push(...(yield* Queue.takeBetween(queue, 1, n - out.length)))
    return out
  })

export const indexes = (ms: ReadonlyArray<RaftMessage>): Array<number> => ms.map((m) => m.message.index)
