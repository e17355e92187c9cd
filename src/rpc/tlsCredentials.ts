/**
 * TLS credentials from PEM files — the cluster's CA, this member's certificate and its key — loaded
 * once and then watched: every `reloadInterval` the files' sizes and modification times are compared,
 * and when one changed all three are read again and a fresh `SecureContext` is built. A bad or
 * half-written set (a certificate that does not match its key, a file missing for a moment during a
 * rotation) is logged and the previous credentials stay in use until the next check succeeds.
 *
 * Dials take `current()` for every new connection; servers subscribe with `onReload` and pass the new
 * PEMs to `tls.Server#setSecureContext`, so new handshakes use them while established connections go
 * on. The same object serves the RPC listeners, the RPC dials and any other listener (an HTTP status
 * port) that wants the cluster's TLS.
 */
import { readFileSync, statSync } from "node:fs"
import * as tls from "node:tls"
import { Data, Duration, Effect, Layer, Schedule, type Scope } from "effect"

/** The PEM files of one member (a store, the scheduler, a client). */
export interface TlsFiles {
  /** The CA certificate(s) a peer's certificate must be signed by. */
  readonly ca: string
  /** This member's certificate, signed by that CA. */
  readonly cert: string
  /** This member's private key. */
  readonly key: string
}

export interface TlsOptions extends TlsFiles {
  /**
   * Only peers and clients whose certificate's common name is in this list may connect to a listener
   * (TiKV's `cert-allowed-cn`); absent or empty = any certificate signed by the CA.
   */
  readonly allowedCn?: ReadonlyArray<string> | undefined
  /** How often the files are checked for changes (default 1 s). */
  readonly reloadInterval?: Duration.DurationInput | undefined
}

/** A complete set of credentials, as read from the files at one moment. */
export interface LoadedTls {
  readonly ca: Buffer
  readonly cert: Buffer
  readonly key: Buffer
  /** Built from the three: what a dial passes to `tls.connect`. */
  readonly secureContext: tls.SecureContext
}

export interface TlsCredentials {
  readonly options: TlsOptions
  /** The last set that loaded; new connections use it. */
  readonly current: () => LoadedTls
  /** The allow-list, or `undefined` when any certificate of the CA may connect. */
  readonly allowedCn: ReadonlySet<string> | undefined
  /** Calls `listener` after each successful reload, until the caller's scope closes. */
  readonly onReload: (listener: (loaded: LoadedTls) => void) => Effect.Effect<void, never, Scope.Scope>
}

/** The TLS files could not be read, or do not make a usable set (e.g. a key that is not the certificate's). */
export class TlsConfigError extends Data.TaggedError("TlsConfigError")<{ readonly message: string }> {}

const readSet = (files: TlsFiles): LoadedTls => {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path)
    } catch (e) {
      throw new Error(`cannot read the TLS ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
  }
  const ca = read("CA", files.ca)
  const cert = read("certificate", files.cert)
  const key = read("key", files.key)
  try {
    return { ca, cert, key, secureContext: tls.createSecureContext({ ca, cert, key }) }
  } catch (e) {
    throw new Error(
      `the TLS files ${files.ca}, ${files.cert} and ${files.key} do not make a usable set: ${(e as Error).message}`
    )
  }
}

const sameSet = (a: LoadedTls, b: LoadedTls): boolean =>
  a.ca.equals(b.ca) && a.cert.equals(b.cert) && a.key.equals(b.key)

/** Size and modification time of each file: what the watcher compares (`""` for a missing file). */
const fingerprint = (files: TlsFiles): string =>
  [files.ca, files.cert, files.key]
    .map((path) => {
      try {
        const s = statSync(path)
        return `${s.size}:${s.mtimeMs}`
      } catch {
        return ""
      }
    })
    .join("|")

/** Loads the files now (failing when they do not make a usable set) and watches them for the scope's lifetime. */
export const loadTlsCredentials = (options: TlsOptions): Effect.Effect<TlsCredentials, TlsConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    let seen = fingerprint(options)
    let loaded = yield* Effect.try({
      try: () => readSet(options),
      catch: (e) => new TlsConfigError({ message: (e as Error).message })
    })
    const listeners = new Set<(loaded: LoadedTls) => void>()
    // the fingerprint whose load failed last, so a broken set is reported once, not at every check
    let failed: string | undefined

    const check = Effect.suspend(() => {
      const now = fingerprint(options)
      if (now === seen) return Effect.void
      return Effect.try({ try: () => readSet(options), catch: (e) => e as Error }).pipe(
        Effect.flatMap((next) =>
          // NB: the fingerprint is taken before the read, so a read in the middle of a rotation can
          // already hold what a later check sees as a change; the same bytes again are no reload
          sameSet(next, loaded)
            ? Effect.sync(() => {
                seen = now
                failed = undefined
              })
            : Effect.sync(() => {
                seen = now
                failed = undefined
                loaded = next
                for (const listener of listeners) listener(next)
              }).pipe(Effect.zipRight(Effect.logInfo("TLS: certificates reloaded from their files")))
        ),
        // NB: `seen` is left as it was, so the next check tries again (a rotation may be half done)
        Effect.catchAll((e) => {
          if (failed === now) return Effect.void
          failed = now
          return Effect.logWarning(
            `TLS: the changed files were not loaded, keeping the previous certificates: ${e.message}`
          )
        })
      )
    })
    const interval = Duration.decode(options.reloadInterval ?? "1 second")
    yield* check.pipe(Effect.repeat(Schedule.spaced(interval)), Effect.interruptible, Effect.forkScoped)

    const allowed = options.allowedCn?.filter((n) => n.length > 0) ?? []
    return {
      options,
      current: () => loaded,
      allowedCn: allowed.length === 0 ? undefined : new Set(allowed),
      onReload: (listener) =>
        Effect.acquireRelease(
          Effect.sync(() => void listeners.add(listener)),
          () => Effect.sync(() => void listeners.delete(listener))
        )
    }
  })

/**
 * A layer built with the credentials of `options` loaded (and watched) for the layer's lifetime, or
 * with `undefined` when there are no TLS options: how a process shares one set between its listener
 * and its dials.
 */
export const layerWithTls = <A, E, R>(
  options: TlsOptions | undefined,
  f: (credentials: TlsCredentials | undefined) => Layer.Layer<A, E, R>
): Layer.Layer<A, E | TlsConfigError, R> =>
  options === undefined ? f(undefined) : Layer.unwrapScoped(Effect.map(loadTlsCredentials(options), f))
