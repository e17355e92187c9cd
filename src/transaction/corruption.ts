/**
 * The one failure of the pure MVCC layer: a stored record that does not parse.
 *
 * The Percolator logic is synchronous and pure, so threading an Either
 * through every seek would bury the protocol in plumbing. Instead the parsers throw this error; the
 * handlers (`handlers.ts`) catch it at the boundary and report it as a `StorageError`. Any other
 * throw is a bug and becomes a defect.
 */
import { Data } from "effect"

export class MvccCorruption extends Data.TaggedError("MvccCorruption")<{ readonly message: string }> {}
