/**
 * The flags every long-running process shares — `--status-addr` and `--log-format` — and how a command
 * wraps its program with them: the status listener beside the program's layer, the logger, and the
 * tracer (OpenTelemetry export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else off).
 */
import type { HttpRouter } from "@effect/platform"
import { Options } from "@effect/cli"
import { Effect, Layer, Option } from "effect"
import { parseAddress } from "../../rpc/address.js"
import type { Health } from "../../services/Health.js"
import { LOG_FORMATS, type LogFormat, layerLogFormat } from "../../status/logging.js"
import { layerStatusServer } from "../../status/statusServer.js"
import { layerTracing } from "../../status/tracing.js"
import { checkAddress } from "./common.js"

export const statusAddrOption = Options.text("status-addr").pipe(
  Options.optional,
  Options.withDescription("address HOST:PORT of the status listener: /metrics, /health, /ready (default: none)")
)

export const logFormatOption = Options.choice("log-format", LOG_FORMATS).pipe(
  Options.optional,
  Options.withDescription("log lines as json or pretty (default: pretty on a terminal, json otherwise)")
)

/** The checked `--status-addr`, if given. */
export const statusAddress = (option: Option.Option<string>) =>
  Option.isSome(option) ? Effect.map(checkAddress(option.value), Option.some) : Effect.succeed(Option.none<string>())

/** `program` with the status listener on `address` beside it, over the `Health` (and more) it provides. */
export const withStatus = <A, E, R, RE = never, RR = never>(
  program: Layer.Layer<A, E, R>,
  address: Option.Option<string>,
  serviceName: string,
  routes?: HttpRouter.HttpRouter<RE, RR>
): Layer.Layer<A, unknown, R | Exclude<RR | Health, A>> =>
  Option.isNone(address)
    ? program
    : Layer.provideMerge(layerStatusServer(parseAddress(address.value), serviceName, routes), program)

/** Runs a process's program with its log format and tracing. */
export const withObservability =
  (format: Option.Option<LogFormat>, serviceName: string) =>
  <A, E, R>(program: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    program.pipe(Effect.provide(Layer.merge(layerLogFormat(Option.getOrUndefined(format)), layerTracing(serviceName))))
