#!/usr/bin/env node
// The `tinykv` command. The TypeScript sources are compiled to dist/ by `npm ci` (the `prepare` script).
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const main = fileURLToPath(new URL("../dist/bin/main.js", import.meta.url))
if (!existsSync(main)) {
  console.error("tinykv: dist/ is missing; run `npm run build` (npm ci does it) first")
  process.exit(1)
}
await import(main)
