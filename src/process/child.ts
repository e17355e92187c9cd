/**
 * One `tinykv` child process under supervision. It is started with `@effect/platform`'s `Command`; its
 * stdout and stderr are always drained (to a log file, to memory, or nowhere) so a full pipe never
 * blocks it; it is ready once its output matches a pattern; and when its scope closes it gets SIGTERM,
 * then SIGKILL if it has not exited after a grace period.
 */
import { fileURLToPath } from "node:url"
import { Command, type CommandExecutor, FileSystem } from "@effect/platform"
import { Deferred, Duration, Effect, Fiber, Ref, type Scope, Stream } from "effect"
import { ChildNotReady } from "./errors.js"

/** The `tinykv` launcher; this file sits two levels below the package root in src/ and in dist/ alike. */
const bin = fileURLToPath(new URL("../../bin/tinykv.mjs", import.meta.url))

export type ExitStatus =
  | { readonly _tag: "Code"; readonly code: number }
  | { readonly _tag: "Signal"; readonly signal: string }

/** `code 1`, or the signal's name. */
export const describeExit = (status: ExitStatus): string =>
  status._tag === "Code" ? `code ${status.code}` : status.signal

export interface ChildOptions {
  readonly name: string
  /** Arguments after `tinykv`. */
  readonly args: ReadonlyArray<string>
  /** The child is ready once its output (stdout and stderr) matches this. */
  readonly ready: RegExp
  readonly readyTimeout: Duration.DurationInput
  /** Appends the child's output to this file. */
  readonly logFile?: string | undefined
  /** Keeps all the child's output in memory for `output` (else only until it is ready). */
  readonly keepOutput: boolean
  /** How long a SIGTERM may take before SIGKILL. */
  readonly stopGrace: Duration.DurationInput
  /** Called when the child exits after it was ready, unless it was asked to (`kill`, `stop`, scope close). */
  readonly onExit?: ((status: ExitStatus) => Effect.Effect<void>) | undefined
}

export interface Child {
  readonly name: string
  readonly pid: number
  /** What the child printed (see `keepOutput`). */
  readonly output: Effect.Effect<string>
  readonly isRunning: Effect.Effect<boolean>
  /** Sends `signal` to the child and waits until it has exited. */
  readonly kill: (signal: CommandExecutor.Signal) => Effect.Effect<void>
  /** SIGTERM, then SIGKILL after the grace period; waits until it has exited. */
  readonly stop: Effect.Effect<void>
  readonly exited: Effect.Effect<ExitStatus>
}

/**
 * The platform reports a death by signal only as an error whose message names the signal; the playground
 * prints that name, so it is read back from the message.
 */
const signalOf = (message: string) => /signal: (\w+)/.exec(message)?.[1] ?? "a signal"

/** Starts `tinykv <args>` and waits until it is ready; the scope's close stops it. */
export const startChild = (
  options: ChildOptions
): Effect.Effect<Child, ChildNotReady, CommandExecutor.CommandExecutor | FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const output = yield* Ref.make({ text: "", ready: false })
    const ready = yield* Deferred.make<void>()
    const exited = yield* Deferred.make<ExitStatus>()
    let stopping = false
    const notReady = (reason: string) =>
      Ref.get(output).pipe(Effect.map((o) => new ChildNotReady({ name: options.name, reason, output: o.text })))

    const command = Command.make(process.execPath, bin, ...options.args)
    const proc = yield* Command.start(command).pipe(
      Effect.catchAll((e) => Effect.flatMap(notReady(`could not be started: ${e.message}`), Effect.fail))
    )

    const record = (chunk: string) =>
      Ref.get(output).pipe(
        Effect.flatMap((o) => {
          if (o.ready) return options.keepOutput ? Ref.set(output, { text: o.text + chunk, ready: true }) : Effect.void
          const text = o.text + chunk
          if (!options.ready.test(text)) return Ref.set(output, { text, ready: false })
          return Ref.set(output, { text: options.keepOutput ? text : "", ready: true }).pipe(
            Effect.zipRight(Deferred.succeed(ready, undefined))
          )
        })
      )
    const text = Stream.merge(proc.stdout.pipe(Stream.decodeText()), proc.stderr.pipe(Stream.decodeText())).pipe(
      Stream.tap(record)
    )
    const drain = yield* (
      options.logFile === undefined
        ? Stream.runDrain(text)
        : text.pipe(Stream.encodeText, Stream.run(fs.sink(options.logFile, { flag: "a" })))
    ).pipe(Effect.ignore, Effect.forkScoped)

    const running = proc.isRunning.pipe(Effect.orElseSucceed(() => false))
    const kill = (signal: CommandExecutor.Signal) =>
      Effect.suspend(() => {
        stopping = true
        // the platform's kill also waits for the exit; a child that is already gone is not an error
        return Effect.whenEffect(proc.kill(signal).pipe(Effect.ignore), running)
      }).pipe(Effect.zipRight(Deferred.await(exited)), Effect.asVoid)
    // the last lines a child prints while it stops are worth keeping in its log
    const flush = Fiber.await(drain).pipe(Effect.timeout("1 second"), Effect.ignore)
    const stop = kill("SIGTERM").pipe(
      Effect.timeout(options.stopGrace),
      Effect.catchAll(() => kill("SIGKILL")),
      Effect.zipRight(flush)
    )

    yield* proc.exitCode.pipe(
      Effect.map((code): ExitStatus => ({ _tag: "Code", code })),
      Effect.catchAll((e) => Effect.succeed<ExitStatus>({ _tag: "Signal", signal: signalOf(e.message) })),
      Effect.tap((status) => Deferred.succeed(exited, status)),
      Effect.tap((status) =>
        Effect.gen(function* () {
          const wasReady = yield* Deferred.isDone(ready)
          if (!stopping && wasReady && options.onExit) yield* options.onExit(status)
        })
      ),
      Effect.forkScoped
    )
    // added after the platform's own finalizer, so it runs first: the platform's sends SIGTERM and waits forever
    yield* Effect.addFinalizer(() => stop)

    yield* Deferred.await(ready).pipe(
      Effect.raceFirst(
        Deferred.await(exited).pipe(
          Effect.zipLeft(flush),
          Effect.flatMap((status) => notReady(`exited (${describeExit(status)}) before it was ready`)),
          Effect.flatMap(Effect.fail)
        )
      ),
      Effect.timeout(options.readyTimeout),
      Effect.catchTag("TimeoutException", () =>
        Effect.flatMap(notReady(`was not ready within ${Duration.format(options.readyTimeout)}`), Effect.fail)
      )
    )

    return {
      name: options.name,
      pid: proc.pid,
      output: Effect.map(Ref.get(output), (o) => o.text),
      isRunning: running,
      kill,
      stop,
      exited: Deferred.await(exited)
    }
  })
