// The `tinykv` command as an esbuild bundle (dist/bundle/): one file for the command tree, plus chunks
// that load only when a command runs. Node then parses a few files instead of resolving hundreds of
// modules, and `tinykv get` never loads the server's code: the CLI starts in well under 0.3 s.
// Run by `npm run build` after tsc (which type-checks and emits the library in dist/).
import { rmSync } from "node:fs"
import { build } from "esbuild"

const outdir = "dist/bundle"
rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: { main: "src/bin/main.ts" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // native (lmdb) or optionally native (msgpackr) packages load from node_modules as usual
  external: ["lmdb", "msgpackr"],
  // bundled CommonJS packages may still call require(); give the ES module one
  banner: {
    js: "import { createRequire as __tinykvRequire } from 'node:module'; const require = __tinykvRequire(import.meta.url);"
  },
  // chunks sit next to main.js, two levels below the package root like every file of dist/: code that
  // finds the package's files from import.meta.url (src/process/child.ts) works the same in both
  logLevel: "warning"
})
