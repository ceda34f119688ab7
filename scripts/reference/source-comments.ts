/**
 * The doc comments (`/** ... *\/`) of a TypeScript file's top-level constants and of the properties of
 * the object literals in them, read with the compiler's parser: the comments are the schemas'
 * documentation, and zod does not carry them at run time.
 */
import { readFileSync } from 'node:fs'
import ts from 'typescript'

/** By constant name: its own comment under `''`, each property's under its dotted path (`loadModel.query`). */
export type SourceComments = Map<string, Map<string, string>>

export function sourceComments(file: string): SourceComments {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const found: SourceComments = new Map()
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue
    for (const declaration of statement.declarationList.declarations) {
      if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue
      const comments = new Map<string, string>()
      const own = commentOf(statement)
      if (own) comments.set('', own)
      collect(declaration.initializer, [], comments)
      found.set(declaration.name.text, comments)
    }
  }
  return found
}

/** Properties of object literals anywhere in the expression, keyed by their path through object literals. */
function collect(node: ts.Node, path: string[], into: Map<string, string>): void {
  if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
    const here = [...path, node.name.text]
    const comment = commentOf(node)
    if (comment) into.set(here.join('.'), comment)
    collect(node.initializer, here, into)
    return
  }
  node.forEachChild((child) => collect(child, path, into))
}

/** The doc comment's text on one line per paragraph, without its markers. */
function commentOf(node: ts.Node): string | undefined {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc
  const last = docs?.at(-1)
  if (!last || typeof last.comment !== 'string') return undefined
  return last.comment
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.replace(/\s+/g, ' ').trim())
    .join('\n\n')
}
