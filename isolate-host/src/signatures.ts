// Reads a module's source (already JavaScript) without running it: which
// functions it offers and their parameter names. Exported functions when the
// module exports any; otherwise its top-level function declarations, which
// get an export clause appended so the runtime can reach them. A named
// default export (`export default function handler`) is registered under its
// name, exported under it too; an anonymous one is refused. For TypeScript,
// the original source tells which parameters are optional (`name?: T`):
// stripping types erases the `?` in place, so positions still match.

import { type FunctionSignature, OsirisError, type Parameter } from '@osiris/proto'
import * as acorn from 'acorn'

type Node = acorn.AnyNode
type FunctionNode = acorn.FunctionDeclaration | acorn.FunctionExpression | acorn.ArrowFunctionExpression

export interface ModuleShape {
  /** The code to run: the input, plus an export clause for what the runtime must reach by name. */
  code: string
  functions: FunctionSignature[]
}

/** A `?` right after a parameter in the TypeScript source (whitespace and comments between allowed). */
function markedOptional(source: string | undefined, end: number): boolean {
  if (source === undefined) return false
  const rest = /^(?:\s|\/\*[\s\S]*?\*\/|\/\/[^\n]*\n)*\?/.exec(source.slice(end, end + 200))
  return rest !== null
}

function compileError(filename: string, message: string, line: number, column: number): OsirisError {
  return new OsirisError('COMPILE_ERROR', `${filename} does not compile: ${message} (line ${line}, column ${column})`)
}

function parse(code: string, filename: string): acorn.Program {
  try {
    return acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: true })
  } catch (error) {
    if (error instanceof SyntaxError && 'loc' in error) {
      const loc = error.loc as acorn.Position
      throw compileError(filename, error.message.replace(/ \(\d+:\d+\)$/, ''), loc.line, loc.column + 1)
    }
    throw error
  }
}

function parameter(code: string, node: acorn.Pattern, source: string | undefined): Parameter {
  switch (node.type) {
    case 'Identifier':
      return { name: node.name, optional: markedOptional(source, node.end), rest: false }
    case 'AssignmentPattern':
      return { ...parameter(code, node.left, source), optional: true }
    case 'RestElement':
      return { ...parameter(code, node.argument, source), rest: true }
    default:
      return { name: code.slice(node.start, node.end), optional: markedOptional(source, node.end), rest: false }
  }
}

function signature(code: string, name: string, fn: FunctionNode, source?: string): FunctionSignature {
  return { name, params: fn.params.map((p) => parameter(code, p, source)) }
}

function isFunction(node: Node | null | undefined): node is FunctionNode {
  return (
    node?.type === 'FunctionDeclaration' ||
    node?.type === 'FunctionExpression' ||
    node?.type === 'ArrowFunctionExpression'
  )
}

/** Top-level bindings whose value is a function, by local name. */
function localFunctions(program: acorn.Program): Map<string, FunctionNode> {
  const found = new Map<string, FunctionNode>()
  for (const statement of program.body) {
    const node = statement.type === 'ExportNamedDeclaration' ? statement.declaration : statement
    if (node?.type === 'FunctionDeclaration' && node.id) found.set(node.id.name, node)
    if (node?.type === 'VariableDeclaration') {
      for (const d of node.declarations) {
        if (d.id.type === 'Identifier' && isFunction(d.init)) found.set(d.id.name, d.init)
      }
    }
  }
  return found
}

/**
 * The functions `code` (JavaScript) offers. `source` is the TypeScript it was
 * stripped from, if any, with the same positions. Throws COMPILE_ERROR for
 * what does not parse or imports, INVALID_ARGUMENT for an anonymous default export.
 */
export function readModuleShape(code: string, filename: string, source?: string): ModuleShape {
  const program = parse(code, filename)
  const locals = localFunctions(program)
  const exported: FunctionSignature[] = []
  /** Local names exported under their own name (a default export needs no clause for them). */
  const exportedNames = new Set<string>()
  /** Named default exports: registered under the local name, which the clause below exports. */
  const defaults: FunctionSignature[] = []
  let hasExports = false
  for (const statement of program.body) {
    if (
      statement.type === 'ImportDeclaration' ||
      statement.type === 'ExportAllDeclaration' ||
      (statement.type === 'ExportNamedDeclaration' && statement.source)
    ) {
      const { line, column } = statement.loc?.start ?? { line: 0, column: 0 }
      throw compileError(filename, 'functions cannot import modules', line, column + 1)
    }
    if (statement.type === 'ExportDefaultDeclaration') {
      hasExports = true
      const named = defaultExport(statement, locals, code, filename, source)
      if (named) defaults.push(named)
      continue
    }
    if (statement.type !== 'ExportNamedDeclaration') continue
    hasExports = true
    const declaration = statement.declaration
    if (declaration?.type === 'FunctionDeclaration') {
      exported.push(signature(code, declaration.id.name, declaration, source))
      exportedNames.add(declaration.id.name)
    } else if (declaration?.type === 'VariableDeclaration') {
      for (const d of declaration.declarations) {
        if (d.id.type !== 'Identifier') continue
        exportedNames.add(d.id.name)
        if (isFunction(d.init)) exported.push(signature(code, d.id.name, d.init, source))
      }
    }
    for (const spec of statement.specifiers) {
      const local = spec.local.type === 'Identifier' ? spec.local.name : String(spec.local.value)
      const exportedName = spec.exported.type === 'Identifier' ? spec.exported.name : String(spec.exported.value)
      const fn = locals.get(local)
      if (exportedName === 'default') {
        if (fn) defaults.push({ ...signature(code, local, fn, source), defaultExport: true })
        continue
      }
      if (exportedName === local) exportedNames.add(local)
      if (fn) exported.push(signature(code, exportedName, fn, source))
    }
  }
  if (hasExports) {
    const fresh = defaults.filter((f) => !exported.some((e) => e.name === f.name))
    const clause = fresh.filter((f) => !exportedNames.has(f.name)).map((f) => f.name)
    const tail = clause.length > 0 ? `\nexport { ${clause.join(', ')} };\n` : ''
    return { code: code + tail, functions: [...exported, ...fresh] }
  }
  const declared = [...locals].filter(([, fn]) => fn.type === 'FunctionDeclaration')
  const functions = declared.map(([name, fn]) => signature(code, name, fn, source))
  const clause = functions.length > 0 ? `\nexport { ${functions.map((f) => f.name).join(', ')} };\n` : ''
  return { code: code + clause, functions }
}

/**
 * The function a default export registers: a named function declaration, or
 * a local function named by `export default name`. Anything else callable
 * without a name is refused; a default export of a class or a value is not a
 * function and registers nothing, as named ones do.
 */
function defaultExport(
  statement: acorn.ExportDefaultDeclaration,
  locals: Map<string, FunctionNode>,
  code: string,
  filename: string,
  source: string | undefined,
): FunctionSignature | undefined {
  const declaration = statement.declaration
  if (declaration.type === 'FunctionDeclaration' && declaration.id) {
    return { ...signature(code, declaration.id.name, declaration, source), defaultExport: true }
  }
  if (declaration.type === 'Identifier') {
    const fn = locals.get(declaration.name)
    return fn ? { ...signature(code, declaration.name, fn, source), defaultExport: true } : undefined
  }
  const anonymous =
    declaration.type === 'FunctionDeclaration' ||
    declaration.type === 'FunctionExpression' ||
    declaration.type === 'ArrowFunctionExpression'
  if (!anonymous) return undefined
  const { line, column } = statement.loc?.start ?? { line: 0, column: 0 }
  throw new OsirisError(
    'INVALID_ARGUMENT',
    `${filename}: a default export needs a name to be deployed, as functions are called by name: write \`export default function name(…)\` (line ${line}, column ${column + 1})`,
  )
}
