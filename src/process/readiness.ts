/**
 * A cluster serves once a write goes through: the scheduler knows the first region's leader and that
 * leader commits through Raft. Listening sockets alone do not show that, so the probe writes (and then
 * deletes) a key through the cluster client.
 */
import { Duration, Effect, Schedule } from "effect"
import { describeError, TinyKvClient, type TlsOptions } from "../client/index.js"
import { ClusterNotWritable } from "./errors.js"

const PROBE_KEY = "tinykv:probe"

/** One attempt with a fresh client, so a scheduler that was not up yet is dialled again. */
const probe = (scheduler: string, tls: TlsOptions | undefined) =>
  Effect.gen(function* () {
    const kv = yield* TinyKvClient
    yield* kv.rawPut(PROBE_KEY, "ok")
    yield* kv.rawDelete(PROBE_KEY)
  }).pipe(Effect.provide(TinyKvClient.layer({ scheduler, timeout: "2 seconds", deadline: "2 seconds", tls })))

/**
 * Retries the probe every 200 ms until a write succeeds, or fails once `timeout` has passed; `tls`
 * is the probe's client credentials on a TLS cluster.
 */
export const waitUntilWritable = (
  scheduler: string,
  timeout: Duration.DurationInput,
  tls?: TlsOptions
): Effect.Effect<void, ClusterNotWritable> =>
  probe(scheduler, tls).pipe(
    Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo(timeout))),
    Effect.mapError((e) => describeError(e)),
    // an attempt in flight when the schedule gives up may still take its own deadline; bound the whole wait
    Effect.timeoutFail({ duration: timeout, onTimeout: () => "no answer" }),
    Effect.mapError((lastError) => new ClusterNotWritable({ scheduler, timeout: Duration.decode(timeout), lastError }))
  )
