/** A bare TCP client speaking (or not) the RPC framing, for bad-input tests. */
import { connect, type Socket } from "node:net"
import { Packr, Unpackr } from "msgpackr"
import { FrameReader, frame } from "../../src/rpc/framedMsgPack.js"

const packr = new Packr({ useRecords: true })

export interface RawConn {
  readonly socket: Socket
  /** Writes bytes as they are (no framing). */
  readonly write: (bytes: Uint8Array) => void
  /** Sends one message, msgpack-encoded in a frame. */
  readonly send: (message: unknown) => void
  /** Resolves with the next decoded message, or `"closed"` if the server closes first. */
  readonly next: (timeoutMs?: number) => Promise<unknown>
  readonly closed: Promise<void>
}

export const openRaw = (port: number): Promise<RawConn> =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port })
    const unpackr = new Unpackr({ useRecords: true })
    const inbox: Array<unknown> = []
    const waiters: Array<(m: unknown) => void> = []
    const reader = new FrameReader(Number.MAX_SAFE_INTEGER)
    let isClosed = false
    const closed = new Promise<void>((r) =>
      socket.on("close", () => {
        isClosed = true
        for (const w of waiters.splice(0)) w("closed")
        r()
      })
    )
    socket.on("data", (chunk: Buffer) => {
      for (const payload of reader.push(chunk)) inbox.push(unpackr.unpack(payload))
      while (inbox.length > 0 && waiters.length > 0) waiters.shift()!(inbox.shift())
    })
    socket.on("error", () => {})
    socket.once("connect", () =>
      resolve({
        socket,
        closed,
        write: (bytes) => socket.write(bytes),
        send: (message) => socket.write(frame(packr.pack(message))),
        next: (timeoutMs = 5000) =>
          inbox.length > 0
            ? Promise.resolve(inbox.shift())
            : isClosed
              ? Promise.resolve("closed")
              : new Promise((r) => {
                  const t = setTimeout(() => r("timeout"), timeoutMs)
                  waiters.push((m) => {
                    clearTimeout(t)
                    r(m)
                  })
                })
      })
    )
    socket.once("error", reject)
  })
