/** What the command line's parsers share: the user-facing error and bytes from text. */
import { Effect } from "effect"
import { fromHex, utf8 } from "../protocol/bytes.js"

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
