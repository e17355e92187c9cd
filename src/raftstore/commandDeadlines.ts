/**
 * How long a command's caller waits for its reply: every command of a store shares one timeout, so one
 * fiber per store answers each reply still pending at its deadline with the caller's timeout response —
 * instead of racing every command against a timer, which costs two fibers, a sleep and an interruption per
 * command (docs/PERFORMANCE.md, "The store's CPU per command").
 *
 * Commands are watched in the order they are sent, and with one timeout their deadlines come in that
 * order too: the fiber sleeps until the oldest deadline, answers every reply whose deadline has passed,
 * and sleeps again — at least `timeoutMs / 20` (at most 100 ms) between checks, so a busy store wakes it
 * a few times a second, not once per command, and a caller may wait that much past its timeout. With
 * nothing watched it waits for the next command. A reply answered in time is left in the queue until its
 * deadline, where answering it again does nothing (the worker's answer stands). Time is the Effect
 * `Clock`'s, so tests drive it with `TestClock`.
 */
import { Clock, Deferred, Duration, Effect } from "effect"
import type { RaftCmdResponse } from "../protocol/raftCmd.js"

export interface CommandDeadlines {
  /** Answers `reply` with `timedOut()` if it is still pending once the timeout has passed from now. */
  readonly watch: (reply: Deferred.Deferred<RaftCmdResponse>, timedOut: () => RaftCmdResponse) => Effect.Effect<void>
  /** `watch` without an Effect, timed by the clock of whoever made the deadlines (the fast lane's writes). */
  readonly watchNow: (reply: Deferred.Deferred<RaftCmdResponse>, timedOut: () => RaftCmdResponse) => void
}

interface Watched {
  readonly at: number
  readonly reply: Deferred.Deferred<RaftCmdResponse>
  readonly timedOut: () => RaftCmdResponse
}

/** The deadlines of commands waited on for `timeoutMs`; the fiber ends with the scope. */
export const makeCommandDeadlines = (timeoutMs: number) =>
  Effect.gen(function* () {
    const watched: Array<Watched> = []
    // the first entry still to check: the queue is consumed from the front without shifting each time
    let head = 0
    const nonEmpty = yield* Effect.makeLatch(false)
    const checkEveryMs = Math.max(1, Math.min(100, timeoutMs / 20))

    const expire = (now: number) => {
      while (head < watched.length && watched[head]!.at <= now) {
        const w = watched[head++]!
        // NB: the timeout response is built by whoever awaits it, so a reply answered already costs nothing
        Deferred.unsafeDone(w.reply, Effect.sync(w.timedOut))
      }
      if (head === watched.length) {
        watched.length = 0
        head = 0
      } else if (head > 1024 && head * 2 > watched.length) {
        watched.splice(0, head)
        head = 0
      }
    }

    const sweep: Effect.Effect<void> = Effect.gen(function* () {
      if (head === watched.length) {
        nonEmpty.unsafeClose()
        return yield* nonEmpty.await
      }
      const now = yield* Clock.currentTimeMillis
      const at = watched[head]!.at
      if (at > now) return yield* Effect.sleep(Duration.millis(at - now))
      expire(now)
      yield* Effect.sleep(Duration.millis(checkEveryMs))
    })
    // NB: interruptible, although forked while a layer is built (uninterruptibly): the scope must be able to end it
    yield* Effect.forkScoped(Effect.interruptible(Effect.forever(sweep)))

    const add = (at: number, reply: Deferred.Deferred<RaftCmdResponse>, timedOut: () => RaftCmdResponse) => {
      watched.push({ at, reply, timedOut })
      nonEmpty.unsafeOpen()
    }
    const ownClock = yield* Effect.clock
    return {
      watch: (reply, timedOut) =>
        Effect.clockWith((clock) =>
          Effect.sync(() => add(clock.unsafeCurrentTimeMillis() + timeoutMs, reply, timedOut))
        ),
      watchNow: (reply, timedOut) => add(ownClock.unsafeCurrentTimeMillis() + timeoutMs, reply, timedOut)
    } satisfies CommandDeadlines
  })
