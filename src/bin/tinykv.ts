/** The `tinykv` command tree (main.ts runs it; the CLI fuzz test parses with it). */
import { Command } from "@effect/cli"
import { ctl } from "./commands/ctl.js"
import { kvCommands } from "./commands/kv.js"
import { load } from "./commands/load.js"
import { playground } from "./commands/playground.js"
import { scheduler } from "./commands/scheduler.js"
import { server } from "./commands/server.js"
import { txn } from "./commands/txn.js"

export const tinykv = Command.make("tinykv").pipe(
  Command.withDescription("TinyKV-TS: a distributed, transactional key-value store."),
  Command.withSubcommands([playground, scheduler, server, ...kvCommands, load, txn, ctl])
)
