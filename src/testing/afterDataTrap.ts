/**
 * A trap for a store's write in its after-data window: the moment a store with a raft log of its own has made a
 * write's data durable and not yet appended the log ops that must follow it (`WriteOp.afterData`, see
 * `layers/storageRaftLogged.ts`). A crash there leaves, say, a snapshot's data without the log that starts at it,
 * which the store mends at its next start (`raftstore/afterData.ts`).
 *
 * Why a trap: random power losses almost never land in that window. It lasts as long as one write, and the writes
 * that matter (a snapshot's, a split's, a removal's) are a few per run: after 20 seeds of the simulator with 50
 * power losses among them, no restart found a log to mend. Armed, the trap catches the next such write of its
 * store and holds it in the window (the data durable, the log ops not) until the simulator crashes the store, or
 * lets the write go on.
 */
import { Deferred, type Duration, Effect, FiberId } from "effect"
import type { WriteOp } from "../services/Storage.js"

/** Which after-data ops a trap catches: a snapshot's, split's or removal's (a raft state put or deleted). */
export const changesRaftState = (after: ReadonlyArray<WriteOp>): boolean =>
  after.some((op) => op._tag !== "DeleteRange")

export class AfterDataTrap {
  private when: ((after: ReadonlyArray<WriteOp>) => boolean) | undefined
  private held: Deferred.Deferred<void> | undefined

  /** `window` is how long the window lasts when the trap does not catch the write. */
  constructor(private readonly window: Duration.Duration) {}

  /** Catches the next write whose after-data ops `when` accepts. */
  arm(when: (after: ReadonlyArray<WriteOp>) => boolean = changesRaftState): void {
    this.when = when
  }

  /** Whether a write is held in its window now. */
  get caught(): boolean {
    return this.held !== undefined
  }

  get armed(): boolean {
    return this.when !== undefined
  }

  /** Disarms the trap; a write it holds goes on to append its log ops. */
  release(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const held = this.held
      this.when = undefined
      this.held = undefined
      return held === undefined ? Effect.void : Deferred.succeed(held, undefined)
    })
  }

  /**
   * Forgets the trap without letting its write go on: the store is stopping, and the write stops with it (the
   * wait is interruptible, although a raftstore's round is not).
   */
  reset(): void {
    this.when = undefined
    this.held = undefined
  }

  /** What a write runs between its data and its after-data log ops (`RaftLoggedOptions.beforeAfterData`). */
  readonly beforeAfterData = (after: ReadonlyArray<WriteOp>): Effect.Effect<void> =>
    Effect.suspend(() => {
      const when = this.when
      if (when === undefined || this.held !== undefined || !when(after)) return Effect.sleep(this.window)
      this.when = undefined
      const held = Deferred.unsafeMake<void>(FiberId.none)
      this.held = held
      return Effect.interruptible(Deferred.await(held))
    })
}
