/**
 * The TLS flags every command shares, each with a `TINYKV_TLS_*` environment fallback:
 * `--tls-ca`, `--tls-cert`, `--tls-key` (all three, or none) and, on listeners, `--tls-allowed-cn`.
 */
import { Options } from "@effect/cli"
import { Config } from "effect"

export { type TlsFlags, tlsFromFlags } from "../../cli/tlsFlags.js"

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
