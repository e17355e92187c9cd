/** Free ports for local clusters (`src/process/ports.ts`): below the ephemeral range, and really free. */
import { createServer } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { freePort } from "../../src/process/ports.js"

const listenOn = (port: number) =>
  Effect.async<void, Error>((resume) => {
    const server = createServer()
    server.once("error", (e) => resume(Effect.fail(e)))
    server.listen(port, "127.0.0.1", () => server.close(() => resume(Effect.void)))
  })

describe("free ports", () => {
  it.live("ports below the ephemeral range, free to listen on, not the same twice in a row", () =>
    Effect.gen(function* () {
      const ports = yield* Effect.forEach([1, 2, 3, 4, 5], () => freePort)
      for (const port of ports) {
        assert.isAtLeast(port, 20_000)
        assert.isAtMost(port, 32_767, "never one an outgoing connection could take meanwhile")
        yield* listenOn(port)
      }
      assert.isAbove(new Set(ports).size, 1)
    })
  )
})
