#!/usr/bin/env node
// The `tinykv` command: the bundle `npm run build` makes in dist/bundle/ (`npm ci` runs it).
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const main = fileURLToPath(new URL("../dist/bundle/main.js", import.meta.url))
if (!existsSync(main)) {
  console.error("tinykv: dist/ is missing; run `npm run build` (npm ci does it) first")
  process.exit(1)
}
await import(main)
