/**
 * The admission frame of a TLS listener. After the handshake, the listener checks the certificate it
 * was shown (`tlsVerify.ts`) and sends one frame, in the connection's usual framing, before anything
 * else: `TlsAdmitted`, or a refusal that says why, after which it closes the connection. A dial reads
 * that frame before it hands the socket to RPC, so a refused client fails to connect with the
 * listener's reason instead of seeing a reset.
 *
 * Why a frame of our own: with TLS 1.3 the client's handshake is over before the server has looked
 * at the client's certificate, and Node offers no way to send a TLS alert that says which check failed.
 *
 * A refusal is shaped as @effect/rpc's `ClientProtocolError`, so the same frame also tells a plain-TCP
 * client why its requests fail (it lands in its RPC layer, which fails every pending call with it).
 */
import { Packr, Unpackr } from "msgpackr"
import { FRAME_HEADER_SIZE, frame } from "./framedMsgPack.js"

export type Admission = { readonly _tag: "Admitted" } | { readonly _tag: "Refused"; readonly message: string }

/** Admission frames are tiny; anything announcing more is not a TinyKV TLS listener. */
const MAX_ADMISSION_BYTES = 64 * 1024

const pack = (message: unknown): Uint8Array => frame(new Packr({ useRecords: true }).pack(message))

export const admittedFrame = (): Uint8Array => pack({ _tag: "TlsAdmitted" })

export const refusalFrame = (message: string): Uint8Array =>
  pack({ _tag: "ClientProtocolError", error: { _tag: "RpcClientError", reason: "Protocol", message, refused: true } })

const decode = (payload: Uint8Array): Admission => {
  let message: { _tag?: unknown; error?: { message?: unknown } }
  try {
    message = new Unpackr({ useRecords: true }).unpack(payload)
  } catch {
    return { _tag: "Refused", message: "the listener sent an undecodable admission frame" }
  }
  if (message?._tag === "TlsAdmitted") return { _tag: "Admitted" }
  if (message?._tag === "ClientProtocolError" && typeof message.error?.message === "string") {
    return { _tag: "Refused", message: message.error.message }
  }
  return { _tag: "Refused", message: "the listener sent no admission frame (not a TinyKV TLS listener?)" }
}

/** Collects the first bytes of a connection until the admission frame is complete. */
export class AdmissionReader {
  private buffered = new Uint8Array(0)

  /** The admission once its frame is complete, with any bytes that followed it; `undefined` until then. */
  push(chunk: Uint8Array): { readonly admission: Admission; readonly rest: Uint8Array } | undefined {
    const next = new Uint8Array(this.buffered.length + chunk.length)
    next.set(this.buffered)
    next.set(chunk, this.buffered.length)
    this.buffered = next
    if (next.length < FRAME_HEADER_SIZE) return undefined
    const length = new DataView(next.buffer, next.byteOffset, FRAME_HEADER_SIZE).getUint32(0)
    if (length > MAX_ADMISSION_BYTES) {
      return {
        admission: { _tag: "Refused", message: "the listener sent no admission frame (not a TinyKV TLS listener?)" },
        rest: new Uint8Array(0)
      }
    }
    if (next.length < FRAME_HEADER_SIZE + length) return undefined
    return {
      admission: decode(next.subarray(FRAME_HEADER_SIZE, FRAME_HEADER_SIZE + length)),
      rest: next.subarray(FRAME_HEADER_SIZE + length)
    }
  }
}
