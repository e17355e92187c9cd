// The `tinykv` command as an esbuild bundle (dist/bundle/): one file for the command tree, plus chunks
// that load only when a command runs. Node then parses a few files instead of resolving hundreds of
// modules, and `tinykv get` never loads the server's code: the CLI starts in well under 0.3 s.
// Run by `npm run build` after tsc (which type-checks and emits the library in dist/).
import { readFileSync, rmSync } from "node:fs"
import { build } from "esbuild"

// `import { Effect, Stream } from "effect"` goes through the package's index, and a bundle split into
// chunks then keeps whole modules behind it (every namespace any chunk uses, in a chunk every command
// loads). Importing each module by its own path lets esbuild keep only what a chunk needs: the command
// tree loads about a third less code. Every name these packages' indexes export is a module.
const BARRELS = /^(effect|@effect\/(?:cli|platform|platform-node|rpc))$/
const deepImports = {
  name: "deep-imports",
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8")
      const contents = source.replace(/^import \{([^}]*)\} from "([^"]+)"/gm, (whole, names, from) => {
        if (!BARRELS.test(from)) return whole
        const values = names
          .split(",")
          .map((n) => n.trim())
          .filter((n) => n.length > 0 && !n.startsWith("type "))
        return values.map((n) => `import * as ${n} from "${from}/${n}"`).join("; ")
      })
      return { contents, loader: "ts" }
    })
  }
}

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
  // native (lmdb) or optionally native (msgpackr) packages load from node_modules as usual; so do the
  // OpenTelemetry packages (bundled, their class hierarchy across modules broke: "i is not a
  // constructor"), which only the status listener and tracing load, never a client command
  external: ["lmdb", "msgpackr", "@opentelemetry/*", "@effect/opentelemetry", "@effect/opentelemetry/*"],
  // bundled CommonJS packages may still call require(); give the ES module one
  banner: {
    js: "import { createRequire as __tinykvRequire } from 'node:module'; const require = __tinykvRequire(import.meta.url);"
  },
  // chunks sit next to main.js, two levels below the package root like every file of dist/: code that
  // finds the package's files from import.meta.url (src/process/child.ts) works the same in both
  minify: process.env.TINYKV_BUNDLE_MINIFY !== "0",
  plugins: [deepImports],
  logLevel: "warning"
})
