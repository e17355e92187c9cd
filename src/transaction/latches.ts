/**
 * Per-key latches: serialize the read-decide-write of commands that touch the same keys within
 * one store process (TinyKV `kv/transaction/latches`).
 *
 * A command latches ALL its keys in one synchronous step or none of them: if any key is held it
 * waits for that holder to finish and tries again. Nobody ever holds some latches while waiting for
 * others, so there is no deadlock whatever order commands name their keys in (the "acquire in
 * sorted order" discipline solves the same problem for incremental acquisition; all-or-nothing
 * needs no order). Waiting is interruptible and leaves nothing behind; the holder releases in a
 * finalizer, so an interrupted or failed command never leaks its latches.
 */
import { Effect, Fiber } from "effect"
import { toLatin1 } from "../protocol/bytes.js"

/** A set of latches held together; `release` opens the gate waiters block on. */
export interface LatchGuard {
  readonly keys: ReadonlyArray<string>
  readonly gate: Effect.Latch
}

export class Latches {
  /** Invariant: every key of a live guard maps to that guard, and only live guards are here. */
  private readonly held = new Map<string, LatchGuard>()

  /** Takes every latch in `keys` (duplicates allowed) or, if one is held, none; returns the holder blocking us. */
  tryAcquire(keys: ReadonlyArray<Uint8Array>): { readonly acquired: LatchGuard } | { readonly blocker: LatchGuard } {
    const names = [...new Set(keys.map(toLatin1))]
    for (const k of names) {
      const blocker = this.held.get(k)
      if (blocker !== undefined) return { blocker }
    }
    const guard: LatchGuard = { keys: names, gate: Effect.unsafeMakeLatch(false) }
    for (const k of names) this.held.set(k, guard)
    return { acquired: guard }
  }

  /** Releases a guard from `tryAcquire` (idempotent) and wakes everyone waiting on it. */
  release(guard: LatchGuard): Effect.Effect<void> {
    return Effect.suspend(() => {
      for (const k of guard.keys) if (this.held.get(k) === guard) this.held.delete(k)
      return guard.gate.open
    })
  }

  /** True when `key` is latched right now (tests and diagnostics). */
  isHeld(key: Uint8Array): boolean {
    return this.held.has(toLatin1(key))
  }

  /** Runs `use` while holding the latches of `keys`, waiting as long as needed to get them. */
  withLatches<A, E, R>(keys: ReadonlyArray<Uint8Array>, use: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return this.withLatchesHandingOff(keys, () => use)
  }

  /**
   * `withLatches`, where `use` may hand its last step off (`handOff`): that step runs on a fiber of its own, and
   * the latches are released when it ends, not when `use` does. Interrupting `use` while it waits for the step
   * ends `use` alone; the step goes on and keeps the latches. A transaction's write needs this: the keys stay
   * latched until the raftstore has answered it, even once its caller has gone (a decision made meanwhile on
   * those keys would not see a write that may still apply).
   */
  withLatchesHandingOff<A, E, R>(
    keys: ReadonlyArray<Uint8Array>,
    use: (handOff: <X, Y>(step: Effect.Effect<X, Y>) => Effect.Effect<X, Y>) => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) => {
      const attempt: Effect.Effect<A, E, R> = Effect.suspend(() => {
        const r = this.tryAcquire(keys)
        if ("blocker" in r) return Effect.zipRight(restore(r.blocker.gate.await), attempt)
        let handedOff = false
        const release = this.release(r.acquired)
        const handOff = <X, Y>(step: Effect.Effect<X, Y>): Effect.Effect<X, Y> =>
          Effect.suspend(() => {
            handedOff = true
            return Effect.flatMap(Effect.forkDaemon(Effect.ensuring(step, release)), (fiber) =>
              restore(Fiber.join(fiber))
            )
          }).pipe(Effect.uninterruptible)
        return Effect.ensuring(
          restore(use(handOff)),
          Effect.suspend(() => (handedOff ? Effect.void : release))
        )
      })
      return attempt
    })
  }
}

export const makeLatches: Effect.Effect<Latches> = Effect.sync(() => new Latches())
