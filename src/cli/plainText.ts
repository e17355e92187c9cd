/**
 * The command line's own messages (help, usage, errors) without colour codes when they go to a pipe,
 * a file, or a terminal whose user set `NO_COLOR` (https://no-color.org). @effect/cli always renders
 * its help with ANSI styles, so the `Console` the commands run with strips them from such output.
 * Data goes to stdout through `stdio.ts`, untouched.
 */
import { stripVTControlCharacters } from "node:util"
import type { Console } from "effect"
import { Effect } from "effect"

/** Whether text written to `stream` may carry colour codes. */
export const colourAllowed = (stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean =>
  stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === "")

const plain = (args: ReadonlyArray<unknown>) =>
  args.map((a) => (typeof a === "string" ? stripVTControlCharacters(a) : a))

/** `base`, stripping colour codes from what goes to stdout and stderr unless they allow them. */
export const plainConsole = (base: Console.Console): Console.Console => {
  const out = colourAllowed(process.stdout)
  const err = colourAllowed(process.stderr)
  const via =
    (allowed: boolean, f: (...args: ReadonlyArray<unknown>) => Effect.Effect<void>) =>
    (...args: ReadonlyArray<unknown>) =>
      allowed ? f(...args) : f(...plain(args))
  return {
    ...base,
    log: via(out, base.log),
    info: via(out, base.info),
    debug: via(out, base.debug),
    error: via(err, base.error),
    warn: via(err, base.warn)
  }
}

/** Runs `effect` with `plainConsole` in place of the current console. */
export const withPlainConsole = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.consoleWith((base) => Effect.withConsole(effect, plainConsole(base)))
