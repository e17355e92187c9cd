/** Starts an in-process scheduler (`layerServer`) on loopback for the lifetime of the scope; port 0 picks a free one. */
import { SocketServer } from "@effect/platform/SocketServer"
import { type Duration, Effect, Layer } from "effect"
import { layerServer } from "../../src/layers/schedulerServer.js"
import { Scheduler } from "../../src/scheduler/service.js"

export const startScheduler = (
  options: {
    readonly dataDir?: string
    readonly port?: number
    /** The coordinator's interval; off by default so tests see only the operators they add. */
    readonly scheduleInterval?: Duration.DurationInput | false
    readonly maxReplicas?: number
  } = {}
) =>
  Effect.gen(function* () {
    const ctx = yield* Layer.build(
      layerServer({
        host: "127.0.0.1",
        port: options.port ?? 0,
        dataDir: options.dataDir,
        scheduleInterval: options.scheduleInterval ?? false,
        maxReplicas: options.maxReplicas
      })
    )
    const server = yield* Effect.provide(SocketServer, ctx)
    const scheduler = yield* Effect.provide(Scheduler, ctx)
    const address = server.address
    if (address._tag !== "TcpAddress") return yield* Effect.die("expected a TCP address")
    return { address: `127.0.0.1:${address.port}`, port: address.port, scheduler }
  })
