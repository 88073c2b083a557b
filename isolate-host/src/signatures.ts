// Reads a module's source (already JavaScript) without running it: which
// functions it offers and their parameter names. Exported functions when the
// module exports any; otherwise its top-level function declarations, which
// get an export clause appended so the runtime can reach them.

import { type FunctionSignature, OsirisError, type Parameter } from '@osiris/proto'
import * as acorn from 'acorn'

type Node = acorn.AnyNode
type FunctionNode = acorn.FunctionDeclaration | acorn.FunctionExpression | acorn.ArrowFunctionExpression

export interface ModuleShape {
  /** The code to run: the input, plus an export clause when it had no exports. */
  code: string
  functions: FunctionSignature[]
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

function parameter(code: string, node: acorn.Pattern): Parameter {
  switch (node.type) {
    case 'Identifier':
      return { name: node.name, optional: false, rest: false }
    case 'AssignmentPattern':
      return { ...parameter(code, node.left), optional: true }
    case 'RestElement':
      return { ...parameter(code, node.argument), rest: true }
    default:
      return { name: code.slice(node.start, node.end), optional: false, rest: false }
  }
}

function signature(code: string, name: string, fn: FunctionNode): FunctionSignature {
  return { name, params: fn.params.map((p) => parameter(code, p)) }
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

export function readModuleShape(code: string, filename: string): ModuleShape {
  const program = parse(code, filename)
  const locals = localFunctions(program)
  const exported: FunctionSignature[] = []
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
    if (statement.type === 'ExportDefaultDeclaration') hasExports = true
    if (statement.type !== 'ExportNamedDeclaration') continue
    hasExports = true
    const declaration = statement.declaration
    if (declaration?.type === 'FunctionDeclaration') {
      exported.push(signature(code, declaration.id.name, declaration))
    } else if (declaration?.type === 'VariableDeclaration') {
      for (const d of declaration.declarations) {
        if (d.id.type === 'Identifier' && isFunction(d.init)) exported.push(signature(code, d.id.name, d.init))
      }
    }
    for (const spec of statement.specifiers) {
      const local = spec.local.type === 'Identifier' ? spec.local.name : String(spec.local.value)
      const exportedName = spec.exported.type === 'Identifier' ? spec.exported.name : String(spec.exported.value)
      const fn = locals.get(local)
      if (fn) exported.push(signature(code, exportedName, fn))
    }
  }
  if (hasExports) return { code, functions: exported }
  const declared = [...locals].filter(([, fn]) => fn.type === 'FunctionDeclaration')
  const functions = declared.map(([name, fn]) => signature(code, name, fn))
  const clause = functions.length > 0 ? `\nexport { ${functions.map((f) => f.name).join(', ')} };\n` : ''
  return { code: code + clause, functions }
}
