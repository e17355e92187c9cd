/**
 * The wire framing of every TinyKV-TS connection (client ↔ store, store ↔ store, store ↔ scheduler):
 * each message is one frame, a 4-byte big-endian payload length followed by that many bytes of msgpack.
 *
 * Why not @effect/rpc's own `RpcSerialization.msgPack`: it has no frame boundaries, so on every socket
 * chunk it copies the whole incomplete buffer and re-parses it from the start — quadratic in the size
 * of a message. A 4 MiB raft batch arriving in 64 KiB chunks was parsed 64 times, and a hostile
 * header announcing 64 MiB kept a connection busy for seconds before the size limit fired. Here the
 * length is known from the header: the bytes of a frame are copied at most once, decoded once, and an
 * oversized frame is refused from its first byte (the limit is 16 MiB, so a valid header starts with
 * 0x00 or 0x01; plain text, an HTTP request or a TLS hello is refused at once).
 */
import { RpcSerialization } from "@effect/rpc"
import { Layer } from "effect"
import { Packr, RESET_BUFFER_MODE, Unpackr } from "msgpackr"
import { MAX_FRAME_SIZE } from "../protocol/limits.js"

export const FRAME_HEADER_SIZE = 4

export interface FramedMsgPackOptions {
  /** The largest payload accepted, in bytes (default `MAX_FRAME_SIZE`, 16 MiB). */
  readonly maxFrameSize?: number
  /** Called with a description of every frame that is refused (oversized, undecodable, not a message). */
  readonly onBadFrame?: (reason: string) => void
  /**
   * Sees every decoded message first; one it returns true for is dealt with and not handed on (a store's
   * one-way Raft batches, `src/server/raftIntake.ts`).
   */
  readonly intake?: (message: unknown) => boolean
}

/** An oversized frame: @effect/rpc closes the connection on this error (close code 1009). */
const tooLarge = (maxBufferSize: number, bufferSize: number) =>
  new RpcSerialization.RpcSerializationError({ reason: "BufferSizeExceeded", maxBufferSize, bufferSize })

/** Frames one encoded payload: header and body in one fresh buffer. */
export const frame = (payload: Uint8Array): Uint8Array => {
  const out = new Uint8Array(FRAME_HEADER_SIZE + payload.length)
  new DataView(out.buffer, out.byteOffset, FRAME_HEADER_SIZE).setUint32(0, payload.length)
  out.set(payload, FRAME_HEADER_SIZE)
  return out
}

/**
 * Splits a byte stream into frame payloads. Chunks are kept as they arrive; a payload is assembled
 * (one copy) only when all its bytes are there, or taken as a view when it lies inside one chunk.
 */
export class FrameReader {
  private chunks: Array<Uint8Array> = []
  private buffered = 0
  /** The payload length of the frame being read, once its header is complete. */
  private expected: number | undefined

  constructor(private readonly maxFrameSize: number) {}

  /** Adds a chunk and returns every payload it completes; throws `RpcSerializationError` when oversized. */
  push(chunk: Uint8Array): Array<Uint8Array> {
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    const payloads: Array<Uint8Array> = []
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered === 0) break
        // the first byte alone can already prove the frame too large
        const first = this.chunks[0]![0]!
        if (first * 2 ** 24 > this.maxFrameSize) throw tooLarge(this.maxFrameSize, first * 2 ** 24)
        if (this.buffered < FRAME_HEADER_SIZE) break
        const header = this.take(FRAME_HEADER_SIZE)
        const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_SIZE).getUint32(0)
        if (length > this.maxFrameSize) throw tooLarge(this.maxFrameSize, length)
        this.expected = length
      }
      if (this.buffered < this.expected) break
      payloads.push(this.take(this.expected))
      this.expected = undefined
    }
    return payloads
  }

  /** Removes and returns the next `n` buffered bytes (n ≤ buffered). */
  private take(n: number): Uint8Array {
    const head = this.chunks[0]!
    if (head.length >= n) {
      const out = head.subarray(0, n)
      if (head.length === n) this.chunks.shift()
      else this.chunks[0] = head.subarray(n)
      this.buffered -= n
      return out
    }
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const c = this.chunks[0]!
      const part = Math.min(c.length, n - filled)
      out.set(c.subarray(0, part), filled)
      filled += part
      if (part === c.length) this.chunks.shift()
      else this.chunks[0] = c.subarray(part)
    }
    this.buffered -= n
    return out
  }
}

const isRpcMessage = (m: unknown): boolean =>
  typeof m === "object" && m !== null && typeof (m as { _tag?: unknown })._tag === "string"

/** The length-prefixed msgpack serialization, for `RpcClient` and `RpcServer` alike. */
export const makeFramedMsgPack = (options: FramedMsgPackOptions = {}): RpcSerialization.RpcSerialization["Type"] => {
  const maxFrameSize = options.maxFrameSize ?? MAX_FRAME_SIZE
  const report = options.onBadFrame ?? (() => {})
  const intake = options.intake
  return RpcSerialization.RpcSerialization.of({
    contentType: "application/x-tinykv-frames",
    includesFraming: true,
    unsafeMake: () => {
      const packr = new Packr({ useRecords: true })
      // copyBuffers: a decoded key or value gets bytes of its own. By default msgpackr hands out views into the
      // frame, and a 20-byte region key or a log entry kept for long held its whole frame in memory (a heap
      // snapshot of a loaded store: 36 frames of 660 KiB held that way, docs/PERFORMANCE.md "Frames held by
      // the bytes they carried")
      const unpackr = new Unpackr({ useRecords: true, copyBuffers: true })
      const reader = new FrameReader(maxFrameSize)
      return {
        // RESET_BUFFER_MODE: the frame copies the bytes at once, so the next pack may write over them; msgpackr
        // then keeps one working buffer instead of allocating a new one (1.2 MB once grown) whenever it fills
        encode: (message) => frame(packr.pack(message, RESET_BUFFER_MODE)),
        decode: (bytes) => {
          const chunk = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes
          let payloads: Array<Uint8Array>
          try {
            payloads = reader.push(chunk)
          } catch (e) {
            report(e instanceof Error ? e.message : String(e))
            throw e
          }
          const messages: Array<unknown> = []
          for (const payload of payloads) {
            // a bad payload fails alone: its frame is consumed, so the connection stays in step (the
            // well-formed messages of the same chunk are dropped with it: only a broken peer sends one)
            let message: unknown
            try {
              message = unpackr.unpack(payload)
            } catch (e) {
              const reason = `undecodable frame of ${payload.length} bytes: ${e instanceof Error ? e.message : String(e)}`
              report(reason)
              throw new Error(reason)
            }
            if (!isRpcMessage(message)) {
              report("a frame that is not an RPC message")
              throw new Error("not an RPC message")
            }
            if (intake?.(message) === true) continue
            messages.push(message)
          }
          return messages
        }
      }
    }
  })
}

/** The framing with defaults and no reporting: what clients use. */
export const framedMsgPack = makeFramedMsgPack()

export const layerFramedMsgPack: Layer.Layer<RpcSerialization.RpcSerialization> = Layer.succeed(
  RpcSerialization.RpcSerialization,
  framedMsgPack
)
