/** `tinykv load FILE`: bulk-load key/value pairs from JSON lines or CSV (work in src/cli/load.ts). */
import { Args, Command, Options } from "@effect/cli"
import { Option } from "effect"
import { cfOption, formatOption, lazy, reportErrors, storeOption } from "./common.js"

export const load = Command.make(
  "load",
  {
    file: Args.text({ name: "FILE" }).pipe(Args.withDescription("the file to load; - reads stdin")),
    input: Options.choice("format", ["jsonl", "csv"]).pipe(
      Options.optional,
      Options.withDescription("the file's format (default: csv for a .csv file, else jsonl)")
    ),
    batch: Options.integer("batch").pipe(
      Options.withDefault(256),
      Options.withDescription("pairs per write (one atomic write per region per batch)")
    ),
    store: storeOption,
    cf: cfOption,
    format: formatOption
  },
  ({ file, input, store, ...args }) =>
    reportErrors(
      lazy(
        () => Promise.all([import("../../cli/load.js"), import("../../cli/loadFormat.js")]),
        ([m, f]) =>
          m.load({ target: store, file, inputFormat: Option.getOrElse(input, () => f.formatOf(file)), ...args })
      )
    )
).pipe(
  Command.withDescription(
    'Write every pair of FILE: JSON lines ({"key":…,"value":…} or keyBase64/valueBase64) or CSV (key,value); ' +
      "shows progress on a terminal and ends with the rate."
  )
)
