/**
 * A fast path derived from a Schema, for the messages every request decodes and encodes (a batch of Raft
 * messages costs ~40 µs to decode through Schema's interpreter, and as much to encode; the check below
 * takes a few).
 *
 * `compileCheck` turns a Schema's AST into a plain predicate — structs, arrays, literals, unions,
 * keywords, and every refinement and declaration the Schema itself defines (their own `filter` and
 * `decodeUnknown` are called, so an id's range or a brand is checked exactly as the Schema checks it).
 * It refuses (returns undefined) any AST with a transformation, where the decoded value differs from the
 * input. `withFastPath(schema)` is a Schema with the same Type and Encoded: an input the predicate accepts
 * is its own decoding (and encoding); anything else goes through the full Schema, so what is refused, and
 * the error that says why, is unchanged. A struct input with a key the Schema does not know also takes
 * the full path, which drops it as before.
 */
import { Either, Option, ParseResult, Schema, SchemaAST } from "effect"

export type Check = (u: unknown) => boolean

const noOptions: SchemaAST.ParseOptions = {}

/** The predicate of `ast`, or undefined when it has a transformation (or a shape this does not cover). */
export const compileCheck = (ast: SchemaAST.AST): Check | undefined => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "BigIntKeyword":
      return (u) => typeof u === "bigint"
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Union": {
      if (ast.types.every((t) => t._tag === "Literal")) {
        const literals = new Set(ast.types.map((t) => (t as SchemaAST.Literal).literal))
        return (u) => literals.has(u as SchemaAST.LiteralValue)
      }
      const members = ast.types.map(compileCheck)
      if (members.some((m) => m === undefined)) return undefined
      const checks = members as Array<Check>
      return (u) => {
        for (const c of checks) if (c(u)) return true
        return false
      }
    }
    case "Refinement": {
      const from = compileCheck(ast.from)
      if (from === undefined) return undefined
      // the two refinements of every id, inlined (each is `Schema.int()` / `Schema.between(min, max)`,
      // recognised by the id those set, with the bounds they record); any other runs its own filter
      const id = ast.annotations[SchemaAST.SchemaIdAnnotationId]
      if (id === Schema.IntSchemaId) return (u) => from(u) && Number.isSafeInteger(u)
      const bounds = ast.annotations[SchemaAST.JSONSchemaAnnotationId] as
        | { readonly minimum?: unknown; readonly maximum?: unknown }
        | undefined
      if (id === Schema.BetweenSchemaId && typeof bounds?.minimum === "number" && typeof bounds.maximum === "number") {
        const { minimum, maximum } = bounds
        return (u) => from(u) && (u as number) >= minimum && (u as number) <= maximum
      }
      return (u) => from(u) && Option.isNone(ast.filter(u, noOptions, ast))
    }
    case "Declaration": {
      if (ast.typeParameters.length > 0) return undefined
      const decode = ast.decodeUnknown()
      return (u) => {
        const r = decode(u, noOptions, ast)
        return Either.isEither(r) && Either.isRight(r) && r.right === u
      }
    }
    case "TupleType": {
      // arrays only: `Schema.Array(item)` is a tuple with no fixed elements and one rest element
      if (ast.elements.length > 0 || ast.rest.length !== 1) return undefined
      const item = compileCheck(ast.rest[0]!.type)
      if (item === undefined) return undefined
      return (u) => {
        if (!Array.isArray(u)) return false
        for (const x of u) if (!item(x)) return false
        return true
      }
    }
    case "TypeLiteral": {
      if (ast.indexSignatures.length > 0) return undefined
      const props: Array<{ readonly name: string; readonly optional: boolean; readonly check: Check }> = []
      for (const p of ast.propertySignatures) {
        if (typeof p.name !== "string") return undefined
        const check = compileCheck(p.type)
        if (check === undefined) return undefined
        props.push({ name: p.name, optional: p.isOptional, check })
      }
      const known = new Set(props.map((p) => p.name))
      return (u) => {
        if (typeof u !== "object" || u === null || Array.isArray(u)) return false
        const o = u as Record<string, unknown>
        for (const p of props) {
          if (!(p.name in o)) {
            if (p.optional) continue
            return false
          }
          if (!p.check(o[p.name])) return false
        }
        for (const k in o) if (!known.has(k)) return false
        return true
      }
    }
    default:
      return undefined
  }
}

/**
 * `schema` with the fast path in front of it; `schema` itself when it has none (a transformation
 * somewhere). Same Type, same Encoded, same failures.
 */
export const withFastPath = <A, I>(schema: Schema.Schema<A, I, never>): Schema.Schema<A, I, never> => {
  const check = compileCheck(schema.ast)
  if (check === undefined) return schema
  const decode = ParseResult.decodeUnknown(schema)
  const encode = ParseResult.encodeUnknown(schema)
  return Schema.declare<A, I, []>(
    [],
    {
      decode: () => (u, options) => (check(u) ? ParseResult.succeed(u as A) : decode(u, options)),
      encode: () => (u, options) => (check(u) ? ParseResult.succeed(u as I) : encode(u, options))
    },
    { identifier: SchemaAST.getIdentifierAnnotation(schema.ast).pipe(Option.getOrElse(() => "FastPath")) }
  )
}
