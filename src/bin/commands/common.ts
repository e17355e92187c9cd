/**
 * What the commands share: connection and output options, error reporting, and `lazy`. This module
 * and the command definitions load at every start, so they import nothing heavy: a command's work
 * is loaded by its handler (`lazy`), and `tinykv get` never loads the server's code.
 */
import { Options } from "@effect/cli"
import { Config, Console, Effect } from "effect"
import { describeError } from "../../client/errors.js"
import { UsageError } from "../../cli/usage.js"
import { tlsFileOptions } from "./tlsOptions.js"

export { checkAddress, parseBytes, UsageError } from "../../cli/usage.js"

/** Loads a command's implementation when it runs, then runs it. */
export const lazy = <M, A, E, R>(load: () => Promise<M>, run: (module: M) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.promise(load), run)

/**
 * Where a data command goes: a cluster through its scheduler (the default, 127.0.0.1:2379), or one
 * standalone store with `--store HOST:PORT`; the environment's `TINYKV_SCHEDULER` / `TINYKV_STORE`
 * stand in for absent flags; with the TLS flags, every connection is mutual TLS.
 */
export const storeOption = Options.all({
  store: Options.text("store").pipe(
    Options.withFallbackConfig(Config.string("TINYKV_STORE")),
    Options.optional,
    Options.withDescription("address HOST:PORT of a standalone store (instead of a cluster); env TINYKV_STORE")
  ),
  scheduler: Options.text("scheduler").pipe(
    Options.withDefault("127.0.0.1:2379"),
    Options.withFallbackConfig(Config.string("TINYKV_SCHEDULER")),
    Options.withDescription(
      "address HOST:PORT of the cluster's scheduler (several: comma-separated, tried in turn); env TINYKV_SCHEDULER"
    )
  ),
  ...tlsFileOptions
})

export const cfOption = Options.choice("cf", ["default", "lock", "write"]).pipe(
  Options.withDefault("default" as const),
  Options.withDescription("column family")
)
export const hexOption = Options.boolean("hex").pipe(
  Options.withDescription("keys and values are given and printed as hex instead of UTF-8")
)
export const formatOption = Options.choice("write-out", ["simple", "json", "table"]).pipe(
  Options.withAlias("w"),
  Options.withDefault("simple" as const),
  Options.withDescription(
    "output: simple (lines), json (lossless: keyBase64/valueBase64 fields) or table (aligned columns)"
  )
)

/** Prints any failure readably on stderr and sets a non-zero exit code; defects still surface. */
export const reportErrors = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<void, never, R> =>
  effect.pipe(
    Effect.asVoid,
    Effect.catchAll((e) =>
      Console.error(`error: ${e instanceof UsageError ? e.message : describeError(e)}`).pipe(
        Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))
      )
    )
  )
