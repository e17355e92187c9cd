/**
 * Batching for the transports: drain a link's queue into one batch, and cut a batch into `Raft` calls that
 * stay far below the 16 MiB msgpack frame limit (the receiver closes a connection on an oversized frame).
 */
import { Effect, Queue } from "effect"
import type { RaftMessage } from "../protocol/raftServer.js"

/**
 * Waits for one message, then takes what else is queued, up to `max` in all. NB: not `takeBetween(1, max)`:
 * a taker woken by an `offerAll` receives only the first item and the rest would wait for the next round.
 */
export const takeBatch = <A>(queue: Queue.Dequeue<A>, max: number): Effect.Effect<Array<A>> =>
  Effect.flatMap(Queue.take(queue), (first) => Effect.map(Queue.takeUpTo(queue, max - 1), (rest) => [first, ...rest]))

/** Bytes a message takes on the wire, roughly: its payloads plus a generous allowance for the fixed fields. */
const estimateBytes = (m: RaftMessage): number => {
  let n = 256 + (m.startKey?.length ?? 0) + (m.endKey?.length ?? 0)
  for (const e of m.message.entries) n += 32 + e.data.length
  return n
}

/** A single message this large would break the connection (the receiver closes it on an oversized frame). */
const MAX_MESSAGE_BYTES = 15 * 1024 * 1024

export const fitsFrame = (m: RaftMessage): boolean => estimateBytes(m) <= MAX_MESSAGE_BYTES

/** Splits `messages`, in order, into runs of at most `maxBytes` estimated bytes (a larger message runs alone). */
export const batchesByBytes = (
  messages: ReadonlyArray<RaftMessage>,
  maxBytes: number
): Array<ReadonlyArray<RaftMessage>> => {
  const out: Array<Array<RaftMessage>> = []
  let current: Array<RaftMessage> = []
  let bytes = 0
  for (const m of messages) {
    const size = estimateBytes(m)
    if (current.length > 0 && bytes + size > maxBytes) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(m)
    bytes += size
  }
  if (current.length > 0) out.push(current)
  return out
}
