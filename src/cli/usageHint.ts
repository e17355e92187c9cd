/**
 * What `tinykv` prints after @effect/cli rejected the arguments (a wrong flag, a missing argument):
 * the usage of the command the arguments name, as plain text, and where to read more. The command
 * line prints this after the one-line reason and exits with code 2, the shell's "wrong usage".
 */
import { stripVTControlCharacters } from "node:util"
import { CliConfig, CommandDescriptor, HelpDoc, Usage } from "@effect/cli"
import { HashMap, Option } from "effect"

/** The deepest command that `args` (the words after the program) name, with its path of names. */
const commandFor = (
  root: CommandDescriptor.Command<unknown>,
  rootName: string,
  args: ReadonlyArray<string>
): { readonly command: CommandDescriptor.Command<unknown>; readonly path: ReadonlyArray<string> } => {
  let command = root
  const path = [rootName]
  for (const word of args) {
    const sub = HashMap.get(CommandDescriptor.getSubcommands(command), word)
    if (Option.isNone(sub)) break
    command = sub.value
    path.push(word)
  }
  return { command, path }
}

/** `usage: tinykv get KEY [--prefix] …` lines and a pointer to the command's --help. */
export const usageHint = (
  root: CommandDescriptor.Command<unknown>,
  rootName: string,
  args: ReadonlyArray<string>
): string => {
  const { command, path } = commandFor(root, rootName, args)
  const lines = Usage.enumerate(CommandDescriptor.getUsage(command), CliConfig.defaultConfig).map((span) =>
    stripVTControlCharacters(HelpDoc.toAnsiText(HelpDoc.p(span))).trim()
  )
  // a command with subcommands enumerates one line per subcommand: keep the list short
  const shown = lines.length > 12 ? [...lines.slice(0, 12), "…"] : lines
  // the usage starts with the command's own name: put its parents before it
  const parents = path
    .slice(0, -1)
    .map((p) => `${p} `)
    .join("")
  return [
    ...shown.map((l, i) => `${i === 0 ? "usage:" : "      "} ${parents}${l}`),
    `see: ${path.join(" ")} --help`
  ].join("\n")
}
