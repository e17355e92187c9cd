/**
 * The simulator's virtual time driver: a program's timers fire in virtual time without real waiting, and a
 * program that cannot finish — every timer past the limit, or waiting on nothing at all — is interrupted on
 * the same scheduler, its finalizers run (even ones that sleep), and the driver answers `undefined` instead
 * of leaving its promise unsettled (a process whose event loop then empties exits silently, with code 0).
 */
import { assert, describe, it } from "vitest"
import { Deferred, Effect, Exit } from "effect"
import { VirtualTime } from "../../src/testing/sim/virtualTime.js"

describe("virtual time", () => {
  it("runs a program's sleeps in virtual time and gives its exit", async () => {
    const time = new VirtualTime()
    const exit = await time.run(Effect.as(Effect.sleep("30 minutes"), 42), 3_600_000)
    assert.isTrue(exit !== undefined && Exit.isSuccess(exit) && exit.value === 42)
    assert.strictEqual(time.millis, 1_800_000)
  })

  it("interrupts a program whose next timer is past the limit, after running its finalizers that sleep", async () => {
    const time = new VirtualTime()
    let finalized = false
    const program = Effect.sleep("10 seconds").pipe(
      Effect.ensuring(
        Effect.zipRight(
          Effect.sleep("100 millis"),
          Effect.sync(() => void (finalized = true))
        )
      )
    )
    const exit = await time.run(program, 1_000)
    assert.isUndefined(exit)
    assert.isTrue(finalized, "the interrupted program's finalizer ran to its end")
  })

  it("interrupts a program that waits on nothing that can ever come", async () => {
    const time = new VirtualTime()
    let finalized = false
    const program = Effect.flatMap(Deferred.make<void>(), Deferred.await).pipe(
      Effect.ensuring(Effect.sync(() => void (finalized = true)))
    )
    const exit = await time.run(program, 1_000)
    assert.isUndefined(exit)
    assert.isTrue(finalized)
  })
})
