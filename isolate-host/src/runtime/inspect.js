// Part of the isolate runtime: values as text for console output, the way
// Node's util.inspect shows them (there is no Node here): errors as their
// stack with cause and own properties, Map and Set contents, class instances
// as `ClassName { … }`, strings quoted inside objects, nesting to depth 2 like
// console.log in Node, cycles marked `<ref *1>` / `[Circular *1]`, getters
// shown as [Getter] rather than run. Output is bounded by a character budget
// (the call's log budget), so a huge value costs no more than what is kept.
// Everything it calls was captured before tenant code ran (common.js).
import {
  ArrayBufferPrototypeGetByteLength,
  AsyncFunctionPrototype,
  AsyncGeneratorFunctionPrototype,
  BigIntPrototypeValueOf,
  BooleanPrototypeValueOf,
  brandOf,
  classNameOf,
  DataViewPrototypeGetByteLength,
  DatePrototypeGetTime,
  DatePrototypeToISOString,
  FunctionPrototypeToString,
  GeneratorFunctionPrototype,
  getPrototypeOf,
  isArray,
  jsonStringify,
  MapForEach,
  MapSize,
  MathTrunc,
  NumberCtor,
  NumberIsFinite,
  NumberParseFloat,
  NumberPrototypeToString,
  NumberPrototypeValueOf,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetOwnPropertySymbols,
  ObjectIs,
  ObjectKeys,
  ObjectPrototype,
  ObjectPrototypePropertyIsEnumerable,
  ownValue,
  RegExpPrototypeToString,
  SafeMap,
  SafeUint8Array,
  SetPrototypeForEach,
  SetPrototypeGetSize,
  StringCharCodeAt,
  StringCtor,
  StringPrototypeIncludes,
  StringPrototypeValueOf,
  StringSlice,
  StringToUpperCase,
  SymbolPrototypeToString,
  TypedArrayLength,
  uncurryThis,
} from './common.js'
export function installInspect() {
  const MAX_DEPTH = 2
  const MAX_ITEMS = 100
  const MAX_STRING = 10000
  const BREAK_LENGTH = 80
  const MapPrototypeGet = uncurryThis(SafeMap.prototype.get)
  const MapPrototypeSet = uncurryThis(SafeMap.prototype.set)
  const MapPrototypeHas = uncurryThis(SafeMap.prototype.has)
  const MapPrototypeDelete = uncurryThis(SafeMap.prototype.delete)
  const ArrayPrototype = Array.prototype

  /** Number(value), or NaN where that would throw (a Symbol inside an object's valueOf, say). */
  function number(value) {
    try {
      return NumberCtor(value)
    } catch {
      return NumberCtor.NaN
    }
  }

  function code(text, i) {
    return StringCharCodeAt(text, i)
  }

  /** A string as a quoted literal: single quotes unless it holds some, like Node. */
  function quote(text) {
    let q = 39
    if (StringPrototypeIncludes(text, "'")) {
      if (!StringPrototypeIncludes(text, '"')) q = 34
      else if (!StringPrototypeIncludes(text, '`') && !StringPrototypeIncludes(text, '${')) q = 96
    }
    let out = ''
    let from = 0
    for (let i = 0; i < text.length; i++) {
      const c = code(text, i)
      let escaped
      if (c === q || c === 92) escaped = `\\${text[i]}`
      else if (c === 10) escaped = '\\n'
      else if (c === 9) escaped = '\\t'
      else if (c === 13) escaped = '\\r'
      else if (c === 8) escaped = '\\b'
      else if (c === 12) escaped = '\\f'
      else if (c === 11) escaped = '\\v'
      else if (c < 32 || c === 127)
        escaped = `\\x${c < 16 ? '0' : ''}${StringToUpperCase(NumberPrototypeToString(c, 16))}`
      if (escaped === undefined) continue
      out += StringSlice(text, from, i) + escaped
      from = i + 1
    }
    const mark = q === 39 ? "'" : q === 34 ? '"' : '`'
    return mark + out + StringSlice(text, from) + mark
  }

  function isIdentifier(key) {
    if (key.length === 0) return false
    for (let i = 0; i < key.length; i++) {
      const c = code(key, i)
      const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36
      if (!letter && (i === 0 || c < 48 || c > 57)) return false
    }
    return true
  }

  function keyText(key) {
    return typeof key === 'symbol' ? `[${SymbolPrototypeToString(key)}]` : isIdentifier(key) ? key : quote(key)
  }

  function primitive(value, nested) {
    switch (typeof value) {
      case 'string':
        if (!nested) return value
        if (value.length > MAX_STRING) {
          return `${quote(StringSlice(value, 0, MAX_STRING))}... ${value.length - MAX_STRING} more characters`
        }
        return quote(value)
      case 'number':
        return ObjectIs(value, -0) ? '-0' : StringCtor(value)
      case 'bigint':
        return `${StringCtor(value)}n`
      case 'symbol':
        return SymbolPrototypeToString(value)
      default:
        return StringCtor(value)
    }
  }

  /** Drops the runtime's own frames: they mean nothing to the function's author. */
  function cleanStack(stack) {
    let out = ''
    let from = 0
    while (from <= stack.length) {
      let end = from
      while (end < stack.length && code(stack, end) !== 10) end++
      const line = StringSlice(stack, from, end)
      if (!StringPrototypeIncludes(line, 'osiris:runtime')) out += (out === '' ? '' : '\n') + line
      from = end + 1
    }
    return out
  }

  function own(value, key) {
    const d = ObjectGetOwnPropertyDescriptor(value, key)
    return d === undefined ? undefined : d.value
  }

  function functionText(fn) {
    let source = ''
    try {
      source = FunctionPrototypeToString(fn)
    } catch {}
    const name = own(fn, 'name')
    const named = typeof name === 'string' && name !== ''
    if (StringSlice(source, 0, 6) === 'class ' || StringSlice(source, 0, 6) === 'class{') {
      return named ? `[class ${name}]` : '[class (anonymous)]'
    }
    const proto = getPrototypeOf(fn)
    const label =
      proto === AsyncFunctionPrototype
        ? 'AsyncFunction'
        : proto === GeneratorFunctionPrototype
          ? 'GeneratorFunction'
          : proto === AsyncGeneratorFunctionPrototype
            ? 'AsyncGeneratorFunction'
            : 'Function'
    return named ? `[${label}: ${name}]` : `[${label} (anonymous)]`
  }

  /** Own enumerable keys, then own enumerable symbols, as `key: value` entries. */
  function properties(value, ctx, depth, skip) {
    const entries = []
    let n = 0
    const keys = ObjectKeys(value)
    for (let i = 0; i < keys.length; i++) {
      if (skip?.(keys[i])) continue
      if (ctx.left <= 0) {
        entries[n++] = '...'
        return entries
      }
      entries[n++] = property(value, keys[i], ctx, depth)
    }
    const symbols = ObjectGetOwnPropertySymbols(value)
    for (let i = 0; i < symbols.length; i++) {
      if (ObjectPrototypePropertyIsEnumerable(value, symbols[i])) entries[n++] = property(value, symbols[i], ctx, depth)
    }
    return entries
  }

  function property(value, key, ctx, depth) {
    const d = ObjectGetOwnPropertyDescriptor(value, key)
    let shown
    if (d === undefined) shown = 'undefined'
    else if (d.get !== undefined || d.set !== undefined) {
      shown =
        d.get !== undefined && d.set !== undefined ? '[Getter/Setter]' : d.get !== undefined ? '[Getter]' : '[Setter]'
    } else shown = format(d.value, ctx, depth + 1)
    return `${keyText(key)}: ${shown}`
  }

  /** Joins entries on one line when they fit, else one per line, indented by two spaces. */
  function group(prefix, open, entries, close, ctx) {
    if (entries.length === 0) return `${prefix}${open}${close}`
    let total = prefix.length + open.length + close.length + ctx.indent
    let multiline = false
    for (let i = 0; i < entries.length; i++) {
      total += entries[i].length + 2
      if (StringPrototypeIncludes(entries[i], '\n')) multiline = true
    }
    if (!multiline && total <= BREAK_LENGTH) {
      let line = ''
      for (let i = 0; i < entries.length; i++) line += (i === 0 ? ' ' : ', ') + entries[i]
      return `${prefix}${open}${line} ${close}`
    }
    let lines = ''
    for (let i = 0; i < entries.length; i++) lines += `\n  ${indent(entries[i])}${i < entries.length - 1 ? ',' : ''}`
    return `${prefix}${open}${lines}\n${close}`
  }

  function indent(text) {
    if (!StringPrototypeIncludes(text, '\n')) return text
    let out = ''
    let from = 0
    for (let i = 0; i < text.length; i++) {
      if (code(text, i) !== 10) continue
      out += `${StringSlice(text, from, i + 1)}  `
      from = i + 1
    }
    return out + StringSlice(text, from)
  }

  function errorText(error, ctx, depth) {
    const stack = ownValue(error, 'stack')
    const name = classNameOf(error) || 'Error'
    let message = own(error, 'message')
    if (typeof message !== 'string') message = ''
    const head =
      typeof stack === 'string' && stack !== ''
        ? cleanStack(stack)
        : `[${message === '' ? name : `${name}: ${message}`}]`
    const extra = properties(error, ctx, depth, (key) => key === 'stack' || key === 'message')
    const cause = ObjectGetOwnPropertyDescriptor(error, 'cause')
    if (cause !== undefined && 'value' in cause && !ObjectPrototypePropertyIsEnumerable(error, 'cause')) {
      extra[extra.length] = `[cause]: ${format(cause.value, ctx, depth + 1)}`
    }
    const errors = ObjectGetOwnPropertyDescriptor(error, 'errors')
    if (errors !== undefined && 'value' in errors && !ObjectPrototypePropertyIsEnumerable(error, 'errors')) {
      extra[extra.length] = `[errors]: ${format(errors.value, ctx, depth + 1)}`
    }
    if (extra.length === 0) return head
    let body = ''
    for (let i = 0; i < extra.length; i++) body += `\n  ${indent(extra[i])}${i < extra.length - 1 ? ',' : ''}`
    return `${head} {${body}\n}`
  }

  function hex(bytes, length) {
    let out = ''
    const shown = length > 50 ? 50 : length
    for (let i = 0; i < shown; i++) {
      const b = bytes[i]
      out += `${i === 0 ? '' : ' '}${b < 16 ? '0' : ''}${NumberPrototypeToString(b, 16)}`
    }
    return length > shown ? `${out} ... ${length - shown} more bytes` : out
  }

  /** The entries and braces of an object that is not an Error, by its brand. */
  function body(value, brand, name, ctx, depth) {
    const entries = []
    let n = 0
    const more = (count) => {
      if (count > 0) entries[n++] = `... ${count} more item${count === 1 ? '' : 's'}`
    }
    if (isArray(value)) {
      const length = value.length
      let holes = 0
      let i = 0
      for (; i < length && n < MAX_ITEMS && ctx.left > 0; i++) {
        if (!(i in value)) {
          holes++
          continue
        }
        if (holes > 0) entries[n++] = `<${holes} empty item${holes === 1 ? '' : 's'}>`
        holes = 0
        entries[n++] = format(value[i], ctx, depth + 1)
      }
      if (holes > 0) entries[n++] = `<${holes} empty item${holes === 1 ? '' : 's'}>`
      more(length - i)
      const rest = properties(value, ctx, depth, (key) => {
        const c = code(key, 0)
        return c >= 48 && c <= 57
      })
      for (let j = 0; j < rest.length; j++) entries[n++] = rest[j]
      const prefix = name === 'Array' ? '' : `${name}(${length}) `
      return group(prefix, '[', entries, ']', ctx)
    }
    if (brand === 'Map' || brand === 'Set') {
      const size = brand === 'Map' ? MapSize(value) : SetPrototypeGetSize(value)
      const each = (item, key) => {
        if (n >= MAX_ITEMS || ctx.left <= 0) return
        entries[n++] =
          brand === 'Map'
            ? `${format(key, ctx, depth + 1)} => ${format(item, ctx, depth + 1)}`
            : format(item, ctx, depth + 1)
      }
      if (brand === 'Map') MapForEach(value, each)
      else SetPrototypeForEach(value, each)
      more(size - n)
      const rest = properties(value, ctx, depth)
      for (let j = 0; j < rest.length; j++) entries[n++] = rest[j]
      return group(`${name}(${size}) `, '{', entries, '}', ctx)
    }
    if (brand === 'WeakMap' || brand === 'WeakSet') return `${name} { <items unknown> }`
    if (brand !== undefined && brand !== 'ArrayBuffer' && brand !== 'DataView' && TypedArrayName(value)) {
      const length = TypedArrayLength(value)
      let i = 0
      for (; i < length && i < MAX_ITEMS; i++) entries[n++] = primitive(value[i], true)
      more(length - i)
      return group(`${name}(${length}) `, '[', entries, ']', ctx)
    }
    if (brand === 'ArrayBuffer') {
      const length = ArrayBufferPrototypeGetByteLength(value)
      entries[n++] = `[Uint8Contents]: <${hex(new SafeUint8Array(value), length)}>`
      entries[n++] = `byteLength: ${length}`
      return group(`${name} `, '{', entries, '}', ctx)
    }
    if (brand === 'DataView') return `${name} { byteLength: ${DataViewPrototypeGetByteLength(value)} }`
    const rest = properties(value, ctx, depth)
    let prefix = name === 'Object' ? '' : `${name} `
    if (name === '') prefix = getPrototypeOf(value) === null ? '[Object: null prototype] ' : ''
    if (brand === 'Promise' || (brand === undefined && name === 'Promise')) {
      const entries = ['<state unknown>']
      for (let j = 0; j < rest.length; j++) entries[j + 1] = rest[j]
      return group(prefix, '{', entries, '}', ctx)
    }
    return group(prefix, '{', rest, '}', ctx)
  }

  function TypedArrayName(value) {
    try {
      TypedArrayLength(value)
      return true
    } catch {
      return false
    }
  }

  /** A boxed primitive, a Date or a RegExp as its one-line form, else undefined. */
  function scalar(value, brand, name) {
    switch (brand) {
      case 'Date': {
        const time = DatePrototypeGetTime(value)
        return NumberIsFinite(time) ? DatePrototypeToISOString(value) : 'Invalid Date'
      }
      case 'RegExp':
        return RegExpPrototypeToString(value)
      case 'Number':
        return `[Number: ${primitive(NumberPrototypeValueOf(value))}]`
      case 'String':
        return `[String: ${quote(StringPrototypeValueOf(value))}]`
      case 'Boolean':
        return `[Boolean: ${BooleanPrototypeValueOf(value)}]`
      case 'BigInt':
        return `[BigInt: ${BigIntPrototypeValueOf(value)}n]`
      case 'Symbol':
        return `[Symbol: ${name}]`
      default:
        return undefined
    }
  }

  function format(value, ctx, depth) {
    if (ctx.left <= 0) return '...'
    if ((typeof value !== 'object' || value === null) && typeof value !== 'function') {
      const text = primitive(value, depth > 0)
      ctx.left -= text.length
      return text
    }
    try {
      if (typeof value === 'function') {
        const text = functionText(value)
        ctx.left -= text.length
        return text
      }
      if (MapPrototypeHas(ctx.path, value)) {
        let id = MapPrototypeGet(ctx.path, value)
        if (id === 0) {
          id = ++ctx.refs
          MapPrototypeSet(ctx.path, value, id)
        }
        return `[Circular *${id}]`
      }
      const proto = getPrototypeOf(value)
      const plain = proto === ObjectPrototype || proto === ArrayPrototype
      const brand = plain ? undefined : brandOf(value)
      const name = plain ? (proto === ArrayPrototype ? 'Array' : 'Object') : classNameOf(value)
      if (brand === 'Error') {
        MapPrototypeSet(ctx.path, value, 0)
        const text = errorText(value, ctx, depth)
        MapPrototypeDelete(ctx.path, value)
        ctx.left -= text.length
        return text
      }
      const one = scalar(value, brand, name)
      if (one !== undefined) {
        ctx.left -= one.length
        return one
      }
      if (depth > MAX_DEPTH) return isArray(value) ? '[Array]' : `[${name || 'Object'}]`
      MapPrototypeSet(ctx.path, value, 0)
      let text = body(value, brand, name, ctx, depth)
      const id = MapPrototypeGet(ctx.path, value)
      MapPrototypeDelete(ctx.path, value)
      if (id !== 0) text = `<ref *${id}> ${text}`
      ctx.left -= 2
      return text
    } catch (error) {
      let why = ''
      try {
        why = typeof error === 'object' && error !== null ? StringCtor(own(error, 'message')) : StringCtor(error)
      } catch {}
      return `[value that cannot be printed: ${why}]`
    }
  }

  /** `value` as Node's util.inspect shows it; top-level strings as they are. Stops near `budget` characters. */
  function inspect(value, budget, nested = false) {
    return format(value, { left: budget, refs: 0, indent: 0, path: new SafeMap() }, nested ? 1 : 0)
  }

  /** console's formatting of its arguments: printf-like specifiers in a leading string, then the rest joined by spaces. */
  function formatArgs(args, budget) {
    const ctx = { left: budget, refs: 0, indent: 0, path: new SafeMap() }
    let line = ''
    let next = 0
    const first = args[0]
    if (typeof first === 'string' && args.length > 1 && StringPrototypeIncludes(first, '%')) {
      next = 1
      let from = 0
      for (let i = 0; i < first.length - 1; i++) {
        if (code(first, i) !== 37) continue
        const spec = first[i + 1]
        let text
        if (spec === '%') text = '%'
        else if (next < args.length) {
          const arg = args[next]
          if (spec === 's')
            text = typeof arg === 'string' ? arg : typeof arg === 'bigint' ? `${arg}n` : format(arg, ctx, 1)
          else if (spec === 'd' || spec === 'i') {
            const n = typeof arg === 'bigint' ? arg : typeof arg === 'symbol' ? NumberCtor.NaN : number(arg)
            text = typeof n === 'bigint' ? `${n}n` : StringCtor(spec === 'i' ? MathTrunc(n) : n)
          } else if (spec === 'f') text = typeof arg === 'symbol' ? 'NaN' : StringCtor(NumberParseFloat(number(arg)))
          else if (spec === 'j') {
            try {
              text = jsonStringify(arg)
            } catch {
              text = '[Circular]'
            }
          } else if (spec === 'o' || spec === 'O') text = format(arg, ctx, 0)
          else if (spec === 'c') text = ''
          if (text !== undefined) next++
        }
        if (text === undefined) continue
        line += StringSlice(first, from, i) + text
        from = i + 2
        i++
      }
      line += StringSlice(first, from)
    }
    for (; next < args.length; next++) {
      if (ctx.left <= 0) break
      const text = typeof args[next] === 'string' ? args[next] : format(args[next], ctx, 0)
      line += (line === '' && next === 0 ? '' : ' ') + text
      if (typeof args[next] === 'string') ctx.left -= text.length
    }
    return line
  }

  return { inspect, formatArgs, cleanStack }
}
