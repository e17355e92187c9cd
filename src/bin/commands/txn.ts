/**
 * `tinykv txn [SCRIPT]`: runs a small transaction script against a store, from the argument or
 * from stdin, e.g. `tinykv txn 'begin; put a 1; get b; commit'`.
 *
 * The script language is in `src/cli/txnScript.ts`. Writes are buffered by the transaction until `commit`
 * (two-phase commit).
 */
import { Args, Command } from "@effect/cli"
import { formatOption, hexOption, lazy, reportErrors, storeOption } from "./common.js"

const description =
  "Run a transaction script (statements separated by ; or newlines) from SCRIPT, or from stdin when SCRIPT is absent. " +
  `Example: tinykv txn 'begin; put alice 90; put bob "110 USD"; get alice; commit'`

const scriptHelp = [
  "The statements:",
  "    begin | get KEY | put KEY VALUE | delete KEY | scan START [LIMIT] | commit | rollback",
  'Double quotes group a word with spaces or ; in it ("hello world"; \\" and \\\\ escape). A line starting with # is a comment.',
  "Reads see the snapshot taken at begin plus the transaction's own writes; writes are buffered until commit.",
  "Prints: get -> the value or (not found); scan -> KEY<TAB>VALUE lines (LIMIT defaults to 100);",
  "commit -> COMMITTED <commit_ts>; rollback -> ROLLED BACK.",
  "A script without begin starts with one; a script that ends without commit rolls back and prints",
  "ROLLED BACK (the script ended without commit).",
  "The whole script is checked before it runs. Any failure prints `error: statement N ...` on stderr and",
  "exits 1. After a write conflict, a locked key or an aborted transaction nothing of it was written and",
  "running the script again may succeed; if the store fails during commit, the message says the commit may have landed."
  // the help prints the first line indented and the rest as given
].join("\n  ")

export const txn = Command.make(
  "txn",
  {
    script: Args.text({ name: "SCRIPT" }).pipe(Args.withDescription(scriptHelp), Args.optional),
    store: storeOption,
    hex: hexOption,
    format: formatOption
  },
  ({ script, store, hex, format }) =>
    reportErrors(
      lazy(
        () => import("../../cli/txnRun.js"),
        (m) => m.runTxn({ script, target: store, hex, format })
      )
    )
).pipe(Command.withDescription(description))
