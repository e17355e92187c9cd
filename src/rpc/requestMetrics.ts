/**
 * Request metrics for an RPC server: a counter by command and outcome, and a latency histogram by command,
 * recorded around each handler. The store (`tinykv_requests_total`) and the scheduler
 * (`tinykv_scheduler_requests_total`) each make one set; the status listener exports them.
 *
 * The outcome is `ok`, the failure's `_tag` (`NotLeader`, `RegionNotFound`, `KeyIsLocked`…), `defect` or
 * `interrupted`: what an operator filters on to tell a slow cluster from a failing one.
 */
import { Cause, Effect, Exit, Metric, MetricBoundaries, MetricLabel, Option } from "effect"

/** 0.5 ms … ~16 s, doubling. */
const boundaries = MetricBoundaries.exponential({ start: 0.0005, factor: 2, count: 16 })

export interface RequestMetrics {
  /** Wraps every handler of a handler record; anything a handler returns that is not an Effect passes as is. */
  readonly instrument: <H extends object>(handlers: H) => H
  /** Records one request directly (for calls that are not RPC handlers). */
  readonly record: (command: string, outcome: string, seconds: number) => void
}

const outcomeOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const tag = (failure.value as { readonly _tag?: unknown } | null)?._tag
    return typeof tag === "string" ? tag : "error"
  }
  return Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"
}

/** Request metrics named `<prefix>_requests_total` and `<prefix>_request_duration_seconds`. */
export const makeRequestMetrics = (prefix: string, what: string): RequestMetrics => {
  const total = Metric.counter(`${prefix}_requests`, {
    description: `${what} handled, by command and outcome`,
    incremental: true
  })
  const duration = Metric.histogram(
    `${prefix}_request_duration_seconds`,
    boundaries,
    `time to handle ${what}, by command`
  )
  // One label array per command and per command × outcome: Effect caches a metric's tagged hook by the
  // array's identity, and a fresh array per request built and hashed a new metric key every time.
  const commandLabels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
  const outcomeLabels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
  const record = (command: string, outcome: string, seconds: number) => {
    let cmd = commandLabels.get(command)
    if (cmd === undefined) {
      cmd = [MetricLabel.make("command", command)]
      commandLabels.set(command, cmd)
    }
    const key = `${command}\u0000${outcome}`
    let both = outcomeLabels.get(key)
    if (both === undefined) {
      both = [cmd[0]!, MetricLabel.make("outcome", outcome)]
      outcomeLabels.set(key, both)
    }
    total.unsafeUpdate(1, both)
    duration.unsafeUpdate(seconds, cmd)
  }
  const measured = <A, E, R>(command: string, effect: Effect.Effect<A, E, R>) =>
    Effect.suspend(() => {
      const started = performance.now()
      return Effect.onExit(effect, (exit) =>
        Effect.sync(() => record(command, outcomeOf(exit), (performance.now() - started) / 1000))
      )
    })
  const instrument = <H extends object>(handlers: H): H =>
    Object.fromEntries(
      Object.entries(handlers).map(([command, handler]) => [
        command,
        typeof handler !== "function"
          ? handler
          : (...args: Array<unknown>) => {
              const result: unknown = handler(...args)
              return Effect.isEffect(result) ? measured(command, result) : result
            }
      ])
    ) as H
  return { instrument, record }
}
