/**
 * A fault-injecting TCP proxy for one directed store-to-store link: store A dials store B through it (A's
 * `--peer-addresses` names the proxy for B). Raft messages from A to B travel on connections A opens, so
 * cutting this proxy cuts exactly the direction A → B; cutting both proxies of a pair partitions the pair.
 *
 * A cut behaves like a partition, not like a refusal: open connections stop delivering (bytes are read and
 * thrown away, in both directions, so the sender sees no error and no back-pressure) and new connections
 * are accepted into the same void. Healing closes every connection that lived through the cut — their
 * streams lost bytes mid-frame — so the sender reconnects on a clean stream.
 */
import { createConnection, createServer, type Socket } from "node:net"
import { Effect } from "effect"

export interface LinkProxy {
  /** The loopback port the proxy listens on. */
  readonly port: number
  /** Where accepted connections go (`HOST:PORT`); until it is set, connections are closed at once. */
  readonly setTarget: (address: string) => void
  /** Starts dropping everything on the link. */
  readonly cut: Effect.Effect<void>
  /** Delivers again; connections that lived through the cut are closed. */
  readonly heal: Effect.Effect<void>
  readonly isCut: () => boolean
  /** Bytes thrown away by cuts so far (both directions). */
  readonly discardedBytes: () => number
}

/** A proxy on a free loopback port; closed (with every connection) when the scope closes. */
export const makeLinkProxy = Effect.gen(function* () {
  let target: { host: string; port: number } | undefined
  let cut = false
  /** Connections that carry data now (each side of each pair). */
  const live = new Set<Socket>()
  /** Connections that saw a cut; closed on heal. */
  const dead = new Set<Socket>()
  let discarded = 0

  const discard = (socket: Socket) => {
    socket.unpipe()
    socket.removeAllListeners("data")
    socket.on("data", (chunk: Buffer) => void (discarded += chunk.length))
    socket.resume()
  }

  const track = (socket: Socket, set: Set<Socket>) => {
    set.add(socket)
    socket.on("error", () => undefined)
    socket.on("close", () => set.delete(socket))
  }

  const server = createServer((inbound) => {
    if (cut) {
      track(inbound, dead)
      discard(inbound)
      return
    }
    if (target === undefined) {
      inbound.destroy()
      return
    }
    const outbound = createConnection(target)
    track(inbound, live)
    track(outbound, live)
    const closeBoth = () => {
      inbound.destroy()
      outbound.destroy()
    }
    inbound.on("close", closeBoth)
    outbound.on("close", closeBoth)
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })

  const port = yield* Effect.acquireRelease(
    Effect.async<number, Error>((resume) => {
      server.once("error", (e) => resume(Effect.fail(e)))
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(
          typeof address === "object" && address !== null
            ? Effect.succeed(address.port)
            : Effect.fail(new Error("the proxy got no port"))
        )
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const s of [...live, ...dead]) s.destroy()
        server.close(() => resume(Effect.void))
      })
  )

  const proxy: LinkProxy = {
    port,
    setTarget: (address) => {
      const i = address.lastIndexOf(":")
      target = { host: address.slice(0, i), port: Number(address.slice(i + 1)) }
    },
    cut: Effect.sync(() => {
      cut = true
      for (const s of live) {
        discard(s)
        live.delete(s)
        track(s, dead)
      }
    }),
    heal: Effect.sync(() => {
      cut = false
      for (const s of dead) s.destroy()
      dead.clear()
    }),
    isCut: () => cut,
    discardedBytes: () => discarded
  }
  return proxy
})
