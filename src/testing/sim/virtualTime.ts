/**
 * The simulator's time: one Effect `Scheduler` and one `Clock`, both virtual, and a driver that runs a
 * program on them to its end.
 *
 * `TestClock` pays real time for every timer it fires: before each one it waits (through `setTimeout`)
 * until every fiber of the test has been suspended twice in a row, and it walks all of them to see so. A
 * cluster has hundreds of fibers and fires thousands of timers per virtual minute, so a run spent most of
 * its wall time idle in those waits (0.12 seeds/s). Here the scheduler queues every fiber step itself, so
 * "nothing can run" is just an empty queue: the driver runs the queue dry, then jumps the clock to the
 * earliest timer and fires it, and so on. No real timer is involved, so a run is as fast as its CPU work,
 * and the order of every step follows from the program alone: a seed replays exactly.
 *
 * The program must do no real IO (memory engines and the memory transport): a promise that settles
 * outside the scheduler would be seen only between two driver slices, at a virtual time that depends on
 * the machine's speed.
 */
import { Clock, type Duration, Effect, type Exit, FiberId, FiberRef, type Scheduler } from "effect"

interface Timer {
  readonly at: number
  readonly seq: number
  readonly wake: () => void
  cancelled: boolean
}

/** A binary heap of timers ordered by due time, then by the order they were set (so ties replay). */
class TimerHeap {
  private readonly items: Array<Timer> = []
  get size() {
    return this.items.length
  }
  private less(a: Timer, b: Timer) {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }
  push(t: Timer) {
    const items = this.items
    items.push(t)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }
  pop(): Timer | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && this.less(items[l]!, items[m]!)) m = l
        if (r < items.length && this.less(items[r]!, items[m]!)) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m]!, items[i]!]
        i = m
      }
    }
    return top
  }
}

/** A scheduler whose queue the driver runs, and a clock whose time moves only when the driver says. */
export class VirtualTime {
  private now = 0
  private seq = 0
  private readonly timers = new TimerHeap()
  /** Tasks by priority (Effect's priorities are small integers; lower runs first). */
  private tasks: Array<[number, Array<Scheduler.Task>]> = []
  /** Fiber steps run so far (a measure of the work a run did). */
  steps = 0

  readonly scheduler: Scheduler.Scheduler = {
    // as Effect's own schedulers: a fiber that ran its share of operations lets the others run
    shouldYield: (fiber) =>
      fiber.currentOpCount > fiber.getFiberRef(FiberRef.currentMaxOpsBeforeYield)
        ? fiber.getFiberRef(FiberRef.currentSchedulingPriority)
        : false,
    scheduleTask: (task, priority) => {
      const buckets = this.tasks
      let i = 0
      while (i < buckets.length && buckets[i]![0] < priority) i++
      if (i < buckets.length && buckets[i]![0] === priority) buckets[i]![1].push(task)
      else buckets.splice(i, 0, [priority, [task]])
    }
  }

  readonly clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => this.now,
    unsafeCurrentTimeNanos: () => BigInt(this.now) * 1_000_000n,
    currentTimeMillis: Effect.sync(() => this.now),
    currentTimeNanos: Effect.sync(() => BigInt(this.now) * 1_000_000n),
    sleep: (duration: Duration.Duration) =>
      Effect.async<void>((resume) => {
        const ms = Math.max(0, durationMillis(duration))
        const timer: Timer = { at: this.now + ms, seq: this.seq++, wake: () => resume(Effect.void), cancelled: false }
        this.timers.push(timer)
        return Effect.sync(() => {
          timer.cancelled = true
        })
      })
  }

  get millis(): number {
    return this.now
  }

  /** Runs queued fiber steps until none is left or `budget` ran; returns how many ran. */
  private runTasks(budget: number): number {
    let ran = 0
    while (this.tasks.length > 0 && ran < budget) {
      const batch = this.tasks
      this.tasks = []
      for (const [, toRun] of batch) {
        for (const task of toRun) task()
        ran += toRun.length
      }
    }
    this.steps += ran
    return ran
  }

  /** Moves the clock to the earliest live timer (not past `limit`) and fires it; false when there is none. */
  private fireNext(limit: number): boolean {
    for (;;) {
      const t = this.timers.pop()
      if (t === undefined) return false
      if (t.cancelled) continue
      if (t.at > limit) {
        this.timers.push(t)
        return false
      }
      this.now = Math.max(this.now, t.at)
      t.wake()
      return true
    }
  }

  /**
   * Runs `program` on this scheduler and clock until it ends or the clock would pass `maxMs`; then it is
   * interrupted and the result is `undefined`. Every `sliceMs` of wall time the driver lets the event loop
   * run (a test runner's own timers and messages), which changes nothing in the run.
   */
  run<A, E>(program: Effect.Effect<A, E>, maxMs: number, sliceMs = 200): Promise<Exit.Exit<A, E> | undefined> {
    const fiber = Effect.runFork(program.pipe(Effect.withClock(this.clock), Effect.withScheduler(this.scheduler)))
    let idleSlices = 0
    // A stuck run is interrupted on this same scheduler, so the driver keeps running it until the
    // interruption (its finalizers, which may sleep) is done; only then is the result `undefined`.
    let interrupting = false
    const interrupt = () => {
      interrupting = true
      idleSlices = 0
      fiber.unsafeInterruptAsFork(FiberId.none)
    }
    return new Promise((resolve, reject) => {
      const slice = () => {
        try {
          const started = performance.now()
          for (;;) {
            const exit = fiber.unsafePoll()
            if (exit !== null) return resolve(interrupting ? undefined : exit)
            if (this.runTasks(10_000) > 0) {
              if (performance.now() - started > sliceMs) return void setImmediate(slice)
              continue
            }
            if (this.fireNext(interrupting ? maxMs + INTERRUPT_GRACE_MS : maxMs)) continue
            if (this.timers.size > 0) {
              // every timer left is due after maxMs: the run is stuck (or its interruption is)
              if (interrupting)
                return reject(new Error(`the run did not stop within ${INTERRUPT_GRACE_MS} ms of being interrupted`))
              interrupt()
              continue
            }
            // Nothing queued and no timer. The fiber's first step runs on Effect's default scheduler (a
            // microtask), so let the event loop run a few times; a program still waiting after that waits
            // for something that will never come.
            if (++idleSlices > 100) {
              if (interrupting) return reject(new Error("the run waits for something outside it even when interrupted"))
              interrupt()
              continue
            }
            return void setImmediate(slice)
          }
        } catch (e) {
          reject(e)
        }
      }
      setImmediate(slice)
    })
  }
}

/** Virtual time a stuck run's interruption may take (its finalizers' sleeps) before the driver gives up. */
const INTERRUPT_GRACE_MS = 60_000

const durationMillis = (d: Duration.Duration): number => {
  const v = d.value
  switch (v._tag) {
    case "Millis":
      return v.millis
    case "Nanos":
      return Number(v.nanos / 1_000_000n)
    case "Infinity":
      return Number.POSITIVE_INFINITY
  }
}
