/**
 * `@effect/vitest` for the conformance suites, loaded only when it can be: it is an optional peer
 * dependency, and it throws when imported outside a vitest run. Loading it here, and not with a static
 * import, keeps `tinykv/testing` importable from plain programs (a `TestCluster` simulation, a script
 * using `eventually`); only calling a suite needs vitest.
 */
type EffectVitest = typeof import("@effect/vitest")

/** `assert`, typed explicitly (TypeScript requires it of assertion functions taken from a value). */
export type Assert = EffectVitest["assert"]

const loaded: EffectVitest | undefined = await import("@effect/vitest").catch(() => undefined)

/** The `@effect/vitest` module; throws with what is missing when the suites run outside vitest. */
export const vitest = (): EffectVitest => {
  if (loaded === undefined) {
    throw new Error(
      "tinykv/testing conformance suites run inside vitest, with vitest and @effect/vitest installed (optional peer dependencies of tinykv)"
    )
  }
  return loaded
}
