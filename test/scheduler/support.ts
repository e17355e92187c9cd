/** Starts an in-process scheduler (`layerServer`) on loopback for the lifetime of the scope; port 0 picks a free one. */
import { SocketServer } from "@effect/platform/SocketServer"
import { Cause, type Duration, Effect, Layer, Schedule } from "effect"
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

/**
 * Polls `check` every 50 ms until it yields a value other than `undefined` (or fails with the last
 * error), within `timeout` of the live clock: for conditions reached over real sockets.
 */
export const eventually = <A, E, R>(
  check: Effect.Effect<A | undefined, E, R>,
  timeout: Duration.DurationInput = "10 seconds"
): Effect.Effect<A, E | Cause.NoSuchElementException | Cause.TimeoutException, R> =>
  check.pipe(
    Effect.flatMap((a) =>
      a === undefined ? Effect.fail(new Cause.NoSuchElementException("not yet")) : Effect.succeed(a)
    ),
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeout(timeout)
  )
