/** Free TCP ports on loopback, for clusters whose ports the caller does not choose. */
import { createServer } from "node:net"
import { Effect, Random } from "effect"

/**
 * Below Linux's default ephemeral range (32768–60999). A port the OS hands out for `listen(0)` comes from
 * that range, the same one every outgoing connection takes its local port from: on a machine running many
 * tests at once, a client connection could take such a port between the moment it was found free and the
 * moment the child process binds it (a store then fails to start, `ServeError`). Ports picked at random
 * below that range are never taken by outgoing connections, only by another listener picking the same one.
 */
const LOW = 20_000
const HIGH = 32_767
const TRIES = 50

/** Listens on `port` (0: any) on loopback and closes at once: the port it got, or `undefined` if taken. */
const probe = (port: number): Effect.Effect<number | undefined, Error> =>
  Effect.async<number | undefined, Error>((resume) => {
    const server = createServer()
    server.once("error", (e: NodeJS.ErrnoException) =>
      resume(e.code === "EADDRINUSE" || e.code === "EACCES" ? Effect.succeed(undefined) : Effect.fail(e))
    )
    server.listen(port, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        resume(
          typeof address === "object" && address !== null
            ? Effect.succeed(address.port)
            : Effect.fail(new Error("the OS gave no port"))
        )
      )
    })
  })

/**
 * A port free right now, at random below the ephemeral range (any free port if none of a few tries is).
 * Another process may still take it before the caller binds it; callers accept that small race (tests and
 * benchmarks on a shared machine) rather than reserve ports.
 */
export const freePort: Effect.Effect<number, Error> = Effect.gen(function* () {
  for (let i = 0; i < TRIES; i++) {
    const port = yield* probe(yield* Random.nextIntBetween(LOW, HIGH + 1))
    if (port !== undefined) return port
  }
  const any = yield* probe(0)
  return any ?? (yield* Effect.fail(new Error("no free port")))
})

/**
 * The first of `count` consecutive ports all free right now, at random below the ephemeral range: for a caller
 * that gives one base port to several listeners (the playground's stores listen on `base-port + i - 1`). Probing
 * only the base would let a neighbour be taken, by another listener of the same cluster or of another test.
 */
export const freePortRun = (count: number): Effect.Effect<number, Error> =>
  Effect.gen(function* () {
    for (let i = 0; i < TRIES; i++) {
      const start = yield* Random.nextIntBetween(LOW, HIGH - count + 2)
      let free = true
      for (let port = start; free && port < start + count; port++) free = (yield* probe(port)) !== undefined
      if (free) return start
    }
    return yield* Effect.fail(new Error(`no run of ${count} free ports`))
  })
