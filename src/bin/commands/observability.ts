/**
 * The flags every long-running process shares: `--status-addr` and `--log-format`. What a command does
 * with them is `src/status/compose.ts`.
 */
import { Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { LOG_FORMATS } from "../../status/logging.js"
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
