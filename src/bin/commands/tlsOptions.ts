/**
 * The TLS flags every command shares, each with a `TINYKV_TLS_*` environment fallback:
 * `--tls-ca`, `--tls-cert`, `--tls-key` (all three, or none) and, on listeners, `--tls-allowed-cn`.
 */
import { Options } from "@effect/cli"
import { Config, Effect, Option } from "effect"
import type { TlsOptions } from "../../rpc/tlsCredentials.js"
import { UsageError } from "../../cli/usage.js"

const pemFile = (name: string, env: string, what: string) =>
  Options.file(name).pipe(
    Options.withFallbackConfig(Config.string(env)),
    Options.optional,
    Options.withDescription(
      `${what} (PEM; or $${env}); with --tls-ca, --tls-cert and --tls-key every link is mutual TLS`
    )
  )

/** `--tls-ca`, `--tls-cert`, `--tls-key`. */
export const tlsFileOptions = {
  tlsCa: pemFile("tls-ca", "TINYKV_TLS_CA", "the cluster's CA certificate"),
  tlsCert: pemFile("tls-cert", "TINYKV_TLS_CERT", "this process's certificate, signed by the CA"),
  tlsKey: pemFile("tls-key", "TINYKV_TLS_KEY", "the private key of --tls-cert")
}

/** `--tls-allowed-cn NAME,…`, for the processes that listen. */
export const tlsAllowedCnOption = Options.text("tls-allowed-cn").pipe(
  Options.withFallbackConfig(Config.string("TINYKV_TLS_ALLOWED_CN")),
  Options.optional,
  Options.withDescription(
    "only certificates with one of these common names may connect, as a peer or a client (comma-separated; or $TINYKV_TLS_ALLOWED_CN)"
  )
)

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
