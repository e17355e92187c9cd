/**
 * The data commands' own use of stdin and stdout. Data goes to stdout as written here, not through
 * `Console` (which the command line strips of colour codes when it is not a terminal): a value is
 * printed byte for byte, whatever it holds.
 */
import { Effect } from "effect"

/** Writes `data` to stdout; completes once Node has taken it (so nothing is lost at exit). */
export const writeOut = (data: string | Uint8Array): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    process.stdout.write(data, () => resume(Effect.void))
  })

/** Writes a line (`text` + newline) to stdout. */
export const printLine = (text: string): Effect.Effect<void> => writeOut(`${text}\n`)

/** Writes a line to stderr: notes for a person (more results, progress, rates), never data. */
export const printNote = (text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    process.stderr.write(`${text}\n`, () => resume(Effect.void))
  })

/** Everything on stdin, as bytes (a value to `put`, a script, a file to `load`); says so first on a terminal. */
export const readStdin = (prompt: string): Effect.Effect<Uint8Array> =>
  Effect.promise(async () => {
    if (process.stdin.isTTY) process.stderr.write(`${prompt}; end with Ctrl-D\n`)
    const chunks: Array<Buffer> = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    const all = Buffer.concat(chunks)
    return new Uint8Array(all.buffer, all.byteOffset, all.byteLength)
  })
