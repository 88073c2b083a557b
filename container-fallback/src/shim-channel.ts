// The host's end of one container's shim connection. The host listens on a
// unix socket in a directory only that container mounts (read-only); the shim
// dials it when it starts, says hello, then answers one JSON line per request
// line. Containers have no network, so this socket is their only way out.
import { chmod } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { OsirisError } from '@osiris/proto'

export const SOCKET_NAME = 'host.sock'
/** Longest answer line accepted; a shim sending more is cut off (its container is then removed). */
export const MAX_LINE_BYTES = 32 * 1024 * 1024

/** The shim's connection ended (its container died or was killed) before it answered. */
export class ChannelClosed extends Error {
  override get name(): string {
    return 'ChannelClosed'
  }
}

export type ShimAnswer = Record<string, unknown>

interface Pending {
  resolve: (answer: ShimAnswer) => void
  reject: (error: Error) => void
  onLog: ((entry: unknown) => void) | undefined
}

export class ShimChannel {
  readonly path: string
  readonly #server: Server
  #socket: Socket | undefined
  /** Bytes of the answer line being received, up to its newline. */
  #parts: Buffer[] = []
  #partBytes = 0
  #pending: Pending | undefined
  #hello: { resolve: (hello: ShimAnswer) => void; reject: (error: Error) => void } | undefined
  #closed = false
  /** Called once when the connection ends, whoever ended it. */
  onClose: () => void = () => {}

  private constructor(path: string, server: Server) {
    this.path = path
    this.#server = server
  }

  /** Listens on `dir`/host.sock, reachable by the container's non-root user. */
  static async listen(dir: string): Promise<ShimChannel> {
    const path = join(dir, SOCKET_NAME)
    const server = createServer()
    const channel = new ShimChannel(path, server)
    server.on('connection', (socket) => channel.#accept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => {
        server.off('error', reject)
        resolve()
      })
    })
    await chmod(path, 0o666)
    return channel
  }

  /** Resolves the shim's hello line; rejects when `signal` aborts first. */
  hello(signal: AbortSignal): Promise<ShimAnswer> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void =>
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)))
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      this.#hello = {
        resolve: (hello) => {
          signal.removeEventListener('abort', onAbort)
          resolve(hello)
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort)
          reject(error)
        },
      }
    })
  }

  #accept(socket: Socket): void {
    // One shim per container: a second connection is not ours to serve.
    if (this.#socket || this.#closed) {
      socket.destroy()
      return
    }
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', () => {})
    socket.on('close', () => this.#onClose())
  }

  // Looks for newlines in the new chunk only and joins a line's bytes once,
  // so a long answer costs time in proportion to its length. A newline byte
  // never occurs inside a UTF-8 sequence, so lines are split on bytes.
  #onData(chunk: Buffer): void {
    let start = 0
    let newline = chunk.indexOf(0x0a, start)
    while (start < chunk.length && !this.#closed) {
      // Strictly request then answer: bytes with nothing asked for (a thread or process the
      // tenant left behind, writing on the shim's socket) are a protocol violation. They are
      // neither parsed nor buffered; the connection ends and the container is discarded.
      if (!this.#pending && !this.#hello) {
        this.#fail(
          new OsirisError('INTERNAL', 'the shim sent output with no request pending; its container is discarded'),
        )
        return
      }
      if (newline < 0) break
      this.#parts.push(chunk.subarray(start, newline))
      const line = Buffer.concat(this.#parts).toString('utf8')
      this.#parts = []
      this.#partBytes = 0
      this.#onLine(line)
      start = newline + 1
      newline = chunk.indexOf(0x0a, start)
    }
    if (start === chunk.length || this.#closed) return
    this.#parts.push(chunk.subarray(start))
    this.#partBytes += chunk.length - start
    if (this.#partBytes > MAX_LINE_BYTES) {
      this.#parts = []
      this.#partBytes = 0
      this.#fail(new OsirisError('PAYLOAD_TOO_LARGE', `the shim sent more than ${MAX_LINE_BYTES} bytes in one answer`))
    }
  }

  #onLine(line: string): void {
    let answer: ShimAnswer
    try {
      const parsed: unknown = JSON.parse(line)
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
      answer = parsed as ShimAnswer
    } catch {
      this.#fail(new OsirisError('INTERNAL', `the shim sent a line that is not a JSON object: ${line.slice(0, 200)}`))
      return
    }
    if (this.#hello) {
      const hello = this.#hello
      this.#hello = undefined
      hello.resolve(answer)
      return
    }
    // A line printed while the request runs, sent as it was printed: not the answer.
    if ('log' in answer && Object.keys(answer).length === 1) {
      this.#pending?.onLog?.(answer.log)
      return
    }
    const pending = this.#pending
    this.#pending = undefined
    pending?.resolve(answer)
  }

  #onClose(): void {
    this.#fail(new ChannelClosed('the shim connection closed'))
  }

  #fail(error: Error): void {
    this.#socket?.destroy()
    const hello = this.#hello
    const pending = this.#pending
    this.#hello = undefined
    this.#pending = undefined
    hello?.reject(error)
    pending?.reject(error)
    if (this.#closed) return
    this.#closed = true
    this.onClose()
  }

  /**
   * Sends one request and resolves its answer. One request at a time. `onLog`
   * takes each `{"log": entry}` line the shim sends before the answer (what the
   * code printed, as it printed it; unchecked, tenant-controlled).
   */
  request(message: object, onLog?: (entry: unknown) => void): Promise<ShimAnswer> {
    const socket = this.#socket
    if (this.#closed || !socket) return Promise.reject(new ChannelClosed('the shim is not connected'))
    if (this.#pending) return Promise.reject(new OsirisError('INTERNAL', 'a shim request is already in flight'))
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject, onLog }
      socket.write(`${JSON.stringify(message)}\n`)
    })
  }

  /** Ends the connection and stops listening. Idempotent. */
  close(): void {
    this.#fail(new ChannelClosed('the shim channel was closed'))
    this.#server.close()
  }
}
