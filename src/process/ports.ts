/** Free TCP ports on loopback, for clusters whose ports the caller does not choose. */
import { createServer } from "node:net"
import { Effect } from "effect"

/**
 * A port the OS reports free right now. Another process may take it before the caller binds it; callers
 * accept that small race (tests and benchmarks on a shared machine) rather than reserve ports.
 */
export const freePort: Effect.Effect<number, Error> = Effect.async<number, Error>((resume) => {
  const server = createServer()
  server.once("error", (e) => resume(Effect.fail(e)))
  server.listen(0, "127.0.0.1", () => {
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
