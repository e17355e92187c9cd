/** Command-line flags of the bench suites. */

/** The value after `--name` in `args`, if the flag is there. */
export const flagOf = (args: ReadonlyArray<string>, name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
