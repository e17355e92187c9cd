/** What the command line's parsers share: the user-facing error, bytes from text, addresses. */
import { Effect } from "effect"
import { fromHex, utf8 } from "../protocol/bytes.js"
import { isValidAddress } from "../rpc/address.js"

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

export const checkAddress = (address: string): Effect.Effect<string, UsageError> =>
  isValidAddress(address) ? Effect.succeed(address) : Effect.fail(new UsageError(`"${address}" is not HOST:PORT`))
