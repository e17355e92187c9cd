/** What the client commands share: connection options, byte encodings, error reporting. */
import { Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { describeError } from "../../client/errors.js"
import { isValidAddress } from "../../client/storeConnection.js"
import { fromHex, fromUtf8, toHex, utf8 } from "../../protocol/bytes.js"

export const storeOption = Options.text("store").pipe(
  Options.withDefault("127.0.0.1:20160"),
  Options.withDescription("address HOST:PORT of the store to talk to")
)
export const cfOption = Options.choice("cf", ["default", "lock", "write"]).pipe(
  Options.withDefault("default" as const),
  Options.withDescription("column family")
)
export const hexOption = Options.boolean("hex").pipe(
  Options.withDescription("keys and values are given and printed as hex instead of UTF-8")
)

/** A user-facing failure: printed as `error: …`, exit code 1. */
export class UsageError {
  readonly _tag = "UsageError"
  constructor(readonly message: string) {}
}

export const parseBytes = (text: string, hex: boolean, what: string): Effect.Effect<Uint8Array, UsageError> => {
  if (!hex) return Effect.succeed(utf8(text))
  const b = fromHex(text)
  return b === undefined ? Effect.fail(new UsageError(`${what} "${text}" is not valid hex`)) : Effect.succeed(b)
}

export const showBytes = (b: Uint8Array, hex: boolean): string => (hex ? toHex(b) : fromUtf8(b))

export const checkAddress = (address: string): Effect.Effect<string, UsageError> =>
  isValidAddress(address) ? Effect.succeed(address) : Effect.fail(new UsageError(`"${address}" is not HOST:PORT`))

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
