/**
 * How a process command wraps its program with the observability flags (`--status-addr`,
 * `--log-format`): the status listener beside the program's layer, the logger, and the tracer
 * (OpenTelemetry export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else off). Kept out of `src/bin/` so
 * a command can load it only when it runs.
 */
import type { HttpRouter } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { parseAddress } from "../rpc/address.js"
import { layerWithTls, type TlsOptions } from "../rpc/tlsCredentials.js"
import type { Health } from "../services/Health.js"
import { type LogFormat, layerLogFormat } from "./logging.js"
import type { StatusClient } from "./statusClient.js"
import { layerStatusServer } from "./statusServer.js"
import { layerTracing } from "./tracing.js"

/**
 * `program` with the status listener on `address` beside it, over the `Health` (and more) it provides.
 * With `tls` (the process's own TLS options) the listener is HTTPS with mutual TLS and the same
 * allow-list; it loads and watches the files itself, so a rotation reaches it without a restart.
 */
export const withStatus = <A, E, R, RE = never, RR = never>(
  program: Layer.Layer<A, E, R>,
  address: Option.Option<string>,
  serviceName: string,
  routes?: HttpRouter.HttpRouter<RE, RR>,
  tls?: TlsOptions | undefined
): Layer.Layer<A, unknown, R | Exclude<Exclude<RR, StatusClient> | Health, A>> =>
  Option.isNone(address)
    ? program
    : Layer.provideMerge(
        layerWithTls(tls, (credentials) =>
          layerStatusServer(parseAddress(address.value), serviceName, routes, credentials)
        ),
        program
      )

/** Runs a process's program with its log format and tracing. */
export const withObservability =
  (format: Option.Option<LogFormat>, serviceName: string) =>
  <A, E, R>(program: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    program.pipe(Effect.provide(Layer.merge(layerLogFormat(Option.getOrUndefined(format)), layerTracing(serviceName))))
