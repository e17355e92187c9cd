/**
 * `eventually`: wait for a condition in a test, with a deadline, instead of sleeping and then asserting.
 *
 * The check runs at once and then every `interval` until it passes or `timeout` has passed since the
 * first run. It passes when it succeeds with anything but `false`; it is retried when it returns
 * `false`, fails, or dies — so `assert` calls inside the check work as the condition. A check still
 * running at the deadline is interrupted. On the deadline `eventually` fails with `EventuallyTimeout`,
 * naming what was awaited and the last reason the check did not pass.
 *
 * NB: the polling pauses and the deadline run on the live clock by default, even under `TestClock`: what
 * a test waits for here is other fibers or processes making progress, which simulated time that only
 * the test itself advances would never give (the check still sees the test's own clock). A program whose
 * own clock moves by itself — the simulator's virtual time — passes `clock: "caller"`: there a live timer
 * would fire at a virtual time that depends on the machine's speed, and the run would not replay.
 */
import { Cause, Clock, Data, Duration, Effect, Option, Schedule } from "effect"

export interface EventuallyOptions {
  /** What is awaited, for the failure message (default: "the condition"). */
  readonly what?: string
  /** How long to keep trying (default 10 seconds). */
  readonly timeout?: Duration.DurationInput
  /** Pause between tries (default 10 millis). */
  readonly interval?: Duration.DurationInput
  /** Which clock times the pauses and the deadline: `live` (default) or the caller's own. */
  readonly clock?: "live" | "caller"
}

/** The condition did not hold before the deadline. */
export class EventuallyTimeout extends Data.TaggedError("EventuallyTimeout")<{
  readonly message: string
  /** The last reason the check did not pass (its failure, defect or `false`). */
  readonly lastCause: Cause.Cause<unknown>
}> {}

/** A check that returned `false` (a boolean check, not yet true). */
class NotYet extends Data.TaggedError("NotYet")<{ readonly message: string }> {}

const describeCause = (cause: Cause.Cause<unknown>): string => {
  const failure = Option.getOrUndefined(Cause.failureOption(cause))
  if (failure instanceof NotYet) return failure.message
  const squashed = Cause.squash(cause)
  return squashed instanceof Error ? squashed.message : String(squashed)
}

/**
 * Retries `check` (an Effect, or a plain function) until it passes; succeeds with its value (never
 * `false`). See the module comment for what counts as passing.
 */
export const eventually = <A, E = never, R = never>(
  check: Effect.Effect<A, E, R> | (() => A),
  options: EventuallyOptions = {}
): Effect.Effect<Exclude<A, false>, EventuallyTimeout, R> =>
  Effect.gen(function* () {
    const what = options.what ?? "the condition"
    const timeout = Duration.decode(options.timeout ?? "10 seconds")
    const interval = Duration.decode(options.interval ?? "10 millis")
    const callerClock = yield* Effect.clock
    let last: Cause.Cause<unknown> = Cause.fail(new NotYet({ message: "the check never finished" }))
    let tries = 0
    const attempt: Effect.Effect<Exclude<A, false>, Cause.Cause<unknown>, R> = Effect.suspend(() => {
      tries++
      const run = Effect.isEffect(check) ? check : Effect.sync(check as () => A)
      return run.pipe(
        Effect.withClock(callerClock),
        Effect.flatMap((a) =>
          a === false
            ? Effect.fail(new NotYet({ message: "the check returned false" }))
            : Effect.succeed(a as Exclude<A, false>)
        ),
        Effect.sandbox,
        // an interruption is the test ending, not a try that failed
        Effect.catchAll(
          (cause): Effect.Effect<never, Cause.Cause<unknown>> =>
            Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.fail(cause)
        ),
        Effect.tapError((cause) => Effect.sync(() => void (last = cause)))
      )
    })
    return yield* attempt.pipe(
      Effect.retry(Schedule.spaced(interval)),
      // never reached (the schedule never gives up); narrows the error channel to the timeout
      Effect.mapError(
        (cause) => new EventuallyTimeout({ message: `gave up on ${what}: ${describeCause(cause)}`, lastCause: cause })
      ),
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new EventuallyTimeout({
            message: `timed out after ${Duration.format(timeout)} (${tries} tries) waiting for ${what}; last: ${describeCause(last)}`,
            lastCause: last
          })
      }),
      // the pauses and the deadline on the live clock unless asked otherwise (see the module comment)
      options.clock === "caller" ? (self) => self : Effect.withClock(Clock.make())
    )
  })
