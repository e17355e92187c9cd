/**
 * Reading samples back out of the Prometheus text format (what a store's `/metrics` serves), for the
 * dashboard's live charts: `name{label="value",…} number` lines; comments and blank lines are skipped.
 */

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

const unescapeLabel = (s: string) => s.replace(/\\(["\\n])/g, (_m, c: string) => (c === "n" ? "\n" : c))

export const parsePrometheusText = (text: string): ReadonlyArray<Sample> => {
  const samples: Array<Sample> = []
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const m = LINE.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = unescapeLabel(l[2]!)
    const value = Number(m[3])
    if (!Number.isNaN(value)) samples.push({ name: m[1]!, labels, value })
  }
  return samples
}
