/** The import statements of the TypeScript files under a folder, read with the compiler's parser. */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import ts from "typescript"

export interface SourceImport {
  /** The importing file, relative to the repository root (`src/client/rawApi.ts`). */
  readonly from: string
  readonly line: number
  /** As written (`../rpc/errors.js`, `effect`). */
  readonly specifier: string
  /** For a relative specifier: the imported file relative to the repository root, `.js` read as `.ts`. */
  readonly target: string | undefined
  /** `import type …` / `export type … from`: erased at compile time, loads nothing. */
  readonly typeOnly: boolean
}

const tsFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return tsFiles(path)
    return e.isFile() && e.name.endsWith(".ts") ? [path] : []
  })

/** Every import, re-export, dynamic `import()` and `import("…")` type of every `.ts` file under `dir`. */
export const sourceImports = (root: string, dir: string): Array<SourceImport> =>
  tsFiles(resolve(root, dir)).flatMap((file) => {
    const text = readFileSync(file, "utf8")
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
    const from = relative(root, file)
    const found: Array<SourceImport> = []
    const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean) => {
      if (specifier === undefined || !ts.isStringLiteralLike(specifier)) return
      const spec = specifier.text
      const target = spec.startsWith(".")
        ? relative(root, resolve(dirname(file), spec)).replace(/\.js$/, ".ts")
        : undefined
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
      found.push({ from, line, specifier: spec, target, typeOnly })
    }
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, node.importClause?.isTypeOnly === true)
      else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, node.isTypeOnly)
      else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal, true)
      else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
        add(node, node.arguments[0], false)
      ts.forEachChild(node, visit)
    }
    visit(source)
    return found
  })
