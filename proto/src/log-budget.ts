// A call's console budget, enforced by the host for every executor on what
// leaves the sandbox (the runtime or shim inside may cut too, but is not
// trusted to): UTF-8 bytes of each line plus its newline, the last line cut
// to fit, then one marker line, then nothing.

/** Room beyond a call's budget for the marker line a runtime or shim writes itself when it cuts. */
export const LOG_MARKER_SLACK = 256

/** The marker line a call's output ends with once its budget is spent (level warn). */
export function logTruncatedLine(maxBytes: number): string {
  return `[osiris] console output truncated: more than ${maxBytes} bytes in this call`
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, on a character boundary. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text
  // Characters take 1–3 UTF-8 bytes per UTF-16 unit: nothing past maxBytes units can fit.
  const bytes = Buffer.from(text.slice(0, maxBytes))
  let end = Math.min(maxBytes, bytes.length)
  // Back off to the start of a character (continuation bytes are 0b10xxxxxx).
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString('utf8')
}

export class LogBudget {
  readonly #max: number
  #left: number
  #spent = false

  /** `maxBytes`: the call's `maxLogBytes`; `slack`: room beyond it for a marker the sandbox wrote itself. */
  constructor(maxBytes: number, slack = 0) {
    this.#max = maxBytes
    this.#left = maxBytes + slack
  }

  /** True once the budget ran out and the marker went out. */
  get truncated(): boolean {
    return this.#spent
  }

  /**
   * What to forward for one line: the line itself while it fits, else its
   * prefix that fits and the marker line (once), else nothing. Each entry's
   * `level` is the line's, or `warn` for the marker.
   */
  take<L extends string>(level: L, line: string): Array<{ level: L | 'warn'; line: string }> {
    if (this.#spent) return []
    const size = Buffer.byteLength(line) + 1
    if (size <= this.#left) {
      this.#left -= size
      return [{ level, line }]
    }
    this.#spent = true
    const head = this.#left > 1 ? utf8Prefix(line, this.#left - 1) : ''
    this.#left = 0
    const marker = { level: 'warn' as const, line: logTruncatedLine(this.#max) }
    return head.length > 0 ? [{ level, line: head }, marker] : [marker]
  }
}
