/**
 * The TLS flags of a command (`--tls-ca`, `--tls-cert`, `--tls-key`, and on listeners
 * `--tls-allowed-cn`) turned into the TLS options of a connection or a listener. The flags themselves
 * are defined in src/bin.
 */
import { Effect, Option } from "effect"
import type { TlsOptions } from "../rpc/tlsCredentials.js"
import { UsageError } from "./usage.js"

export interface TlsFlags {
  readonly tlsCa: Option.Option<string>
  readonly tlsCert: Option.Option<string>
  readonly tlsKey: Option.Option<string>
}

/** The TLS options the flags ask for: none, or all three files (a partial set is a usage error). */
export const tlsFromFlags = (
  flags: TlsFlags,
  allowedCn: Option.Option<string> = Option.none()
): Effect.Effect<TlsOptions | undefined, UsageError> => {
  const ca = Option.getOrUndefined(flags.tlsCa)
  const cert = Option.getOrUndefined(flags.tlsCert)
  const key = Option.getOrUndefined(flags.tlsKey)
  const names = Option.map(allowedCn, (text) =>
    text
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n.length > 0)
  )
  if (ca === undefined && cert === undefined && key === undefined) {
    return Option.isSome(names)
      ? Effect.fail(new UsageError("--tls-allowed-cn needs TLS: give --tls-ca, --tls-cert and --tls-key too"))
      : Effect.succeed(undefined)
  }
  if (ca === undefined || cert === undefined || key === undefined) {
    return Effect.fail(new UsageError("TLS needs all three of --tls-ca, --tls-cert and --tls-key"))
  }
  return Effect.succeed({ ca, cert, key, ...(Option.isSome(names) ? { allowedCn: names.value } : {}) })
}
