// A small client for the Docker Engine API (also served by Podman) over its
// unix socket, with undici. Only the calls Osiris needs; every failure is an
// OsirisError naming the call and what the engine said.
import type { Readable } from 'node:stream'
import { OsirisError } from '@osiris/proto'
import { Client, Pool } from 'undici'

/** The API version asked for: Docker 20.10 serves 1.41, and newer engines and Podman still accept it. */
const API = '/v1.41'
export const DEFAULT_SOCKET = '/var/run/docker.sock'

/** `explicit`, else `$DOCKER_HOST` when it is `unix://PATH`, else /var/run/docker.sock. */
export function resolveSocketPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit.replace(/^unix:\/\//, '')
  const host = env.DOCKER_HOST
  if (!host) return DEFAULT_SOCKET
  if (host.startsWith('unix://')) return host.slice('unix://'.length)
  throw new OsirisError(
    'INVALID_ARGUMENT',
    `DOCKER_HOST=${host} is not a unix socket; Osiris talks to the engine over unix:// only`,
  )
}

export interface ContainerSummary {
  Id: string
  Names: string[]
  Labels: Record<string, string>
  State: string
}

export interface ContainerState {
  Status: string
  Running: boolean
  OOMKilled: boolean
  ExitCode: number
  Pid: number
}

export interface ContainerInspect {
  Id: string
  State: ContainerState
}

/** One engine event (GET /events), as much of it as Osiris reads. */
export interface EngineEvent {
  Type?: string
  Action?: string
  id?: string
  Actor?: { ID?: string; Attributes?: Record<string, string> }
  /** When it happened, ns since the epoch. */
  timeNano?: number
}

/** The engine answered with a non-2xx status. */
export class EngineError extends OsirisError {
  readonly status: number

  constructor(what: string, status: number, message: string) {
    super('UNAVAILABLE', `container engine: ${what} failed (${status}): ${message}`)
    this.status = status
  }
}

type Method = 'GET' | 'POST' | 'DELETE' | 'HEAD'

interface RequestOptions {
  body?: unknown
  query?: Record<string, string>
  /** Non-2xx statuses that are an answer, not a failure (404 for "not there"). */
  okStatus?: number[]
  signal?: AbortSignal
}

export class DockerClient {
  readonly socketPath: string
  readonly #client: Pool
  /** Long-lived event streams, each on a connection of its own. */
  readonly #streams = new Set<Client>()
  #closed = false

  constructor(socketPath?: string) {
    this.socketPath = resolveSocketPath(socketPath)
    // A few connections, so removing a container never waits behind creating another.
    this.#client = new Pool('http://docker', { socketPath: this.socketPath, connections: 4 })
  }

  async #request(
    what: string,
    method: Method,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ status: number; body: string }> {
    if (this.#closed) throw new OsirisError('CLOSED', 'container engine client is closed')
    const query = options.query ? `?${new URLSearchParams(options.query)}` : ''
    let response: Awaited<ReturnType<Pool['request']>>
    try {
      response = await this.#client.request({
        method,
        path: `${API}${path}${query}`,
        headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ?? null,
      })
    } catch (error) {
      throw new OsirisError(
        'UNAVAILABLE',
        `container engine at ${this.socketPath} does not answer (${what}): ${(error as Error).message}`,
      )
    }
    const body = await response.body.text()
    const ok = response.statusCode < 300 || options.okStatus?.includes(response.statusCode)
    if (!ok) throw new EngineError(what, response.statusCode, engineMessage(body))
    return { status: response.statusCode, body }
  }

  async #json<T>(what: string, method: Method, path: string, options?: RequestOptions): Promise<T> {
    const { body } = await this.#request(what, method, path, options)
    return JSON.parse(body) as T
  }

  /** Resolves when the engine answers `/_ping`; rejects UNAVAILABLE otherwise. */
  async ping(): Promise<void> {
    await this.#request('ping', 'GET', '/_ping')
  }

  /** The engine's version; `signal` abandons the request (a hung engine). */
  async version(signal?: AbortSignal): Promise<{ Version: string; ApiVersion: string }> {
    return this.#json('version', 'GET', '/version', signal ? { signal } : {})
  }

  /** True when the image exists locally. */
  async hasImage(image: string): Promise<boolean> {
    const { status } = await this.#request('inspect image', 'GET', `/images/${encodeURIComponent(image)}/json`, {
      okStatus: [404],
    })
    return status !== 404
  }

  async removeImage(image: string): Promise<void> {
    await this.#request('remove image', 'DELETE', `/images/${encodeURIComponent(image)}`, {
      query: { force: 'true' },
      okStatus: [404],
    })
  }

  async createContainer(name: string, spec: object): Promise<string> {
    const created = await this.#json<{ Id: string }>('create container', 'POST', '/containers/create', {
      query: { name },
      body: spec,
    })
    return created.Id
  }

  async startContainer(id: string): Promise<void> {
    await this.#request('start container', 'POST', `/containers/${id}/start`, { okStatus: [304] })
  }

  async inspectContainer(id: string): Promise<ContainerInspect | undefined> {
    const { status, body } = await this.#request('inspect container', 'GET', `/containers/${id}/json`, {
      okStatus: [404],
    })
    return status === 404 ? undefined : (JSON.parse(body) as ContainerInspect)
  }

  /** Kills (SIGKILL) and removes a container; a container already gone is fine. */
  async removeContainer(id: string): Promise<void> {
    await this.#request('remove container', 'DELETE', `/containers/${id}`, {
      query: { force: 'true', v: 'true' },
      okStatus: [404, 409],
    })
  }

  /** The command lines of the processes running in a container (GET /containers/{id}/top), for operators and tests. */
  async processes(id: string): Promise<string[]> {
    const top = await this.#json<{ Titles: string[]; Processes: string[][] }>(
      'list processes',
      'GET',
      `/containers/${id}/top`,
      {},
    )
    const column = top.Titles.indexOf('CMD')
    return top.Processes.map((p) => p[column] ?? p.join(' '))
  }

  async killContainer(id: string): Promise<void> {
    await this.#request('kill container', 'POST', `/containers/${id}/kill`, { okStatus: [404, 409] })
  }

  /** Containers carrying every `label` (`key=value` or `key`), running or not. */
  async listContainers(labels: string[]): Promise<ContainerSummary[]> {
    return this.#json('list containers', 'GET', '/containers/json', {
      query: { all: 'true', filters: JSON.stringify({ label: labels }) },
    })
  }

  /**
   * Imports a root filesystem tarball as `repo:tag` (POST /images/create?fromSrc=-),
   * with Dockerfile-style `changes` (USER, WORKDIR, ENV, CMD). `onBytes` sees
   * the upload's progress.
   */
  async importImage(
    tarball: Readable,
    repo: string,
    tag: string,
    changes: string[],
    onBytes?: (sent: number) => void,
  ): Promise<string> {
    let sent = 0
    tarball.on('data', (chunk: Buffer) => {
      sent += chunk.length
      onBytes?.(sent)
    })
    const query = new URLSearchParams({ fromSrc: '-', repo, tag })
    for (const change of changes) query.append('changes', change)
    const response = await this.#client.request({
      method: 'POST',
      path: `${API}/images/create?${query}`,
      headers: { 'content-type': 'application/x-tar' },
      body: tarball,
    })
    const text = await response.body.text()
    if (response.statusCode >= 300) throw new EngineError('import image', response.statusCode, engineMessage(text))
    // The answer is a stream of JSON progress lines; an error arrives as {"error": ...} with status 200.
    for (const line of text.split('\n')) {
      if (!line.trim()) continue
      const parsed = JSON.parse(line) as { error?: string; status?: string }
      if (parsed.error) throw new EngineError('import image', 200, parsed.error)
    }
    return `${repo}:${tag}`
  }

  /**
   * Streams the engine's events matching `filters` (from `since`, seconds
   * since the epoch, when given) into `onEvent`; resolves once the engine
   * streams. `onEnd` hears that the stream ended without `signal` (the engine
   * restarted, say).
   */
  async events(
    filters: Record<string, string[]>,
    onEvent: (event: EngineEvent) => void,
    signal: AbortSignal,
    options: { since?: number; onEnd?: () => void } = {},
  ): Promise<void> {
    if (this.#closed) throw new OsirisError('CLOSED', 'container engine client is closed')
    const stream = new Client('http://docker', { socketPath: this.socketPath, bodyTimeout: 0 })
    this.#streams.add(stream)
    const response = await stream
      .request({
        method: 'GET',
        path: `${API}/events?${new URLSearchParams({
          filters: JSON.stringify(filters),
          ...(options.since === undefined ? {} : { since: String(options.since) }),
        })}`,
        signal,
      })
      .catch((error: unknown) => {
        this.#streams.delete(stream)
        void stream.destroy()
        throw new OsirisError(
          'UNAVAILABLE',
          `container engine at ${this.socketPath} does not stream events: ${(error as Error).message}`,
        )
      })
    let buffer = ''
    response.body.setEncoding('utf8')
    response.body.on('data', (chunk: string) => {
      buffer += chunk
      let newline = buffer.indexOf('\n')
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim()
        buffer = buffer.slice(newline + 1)
        const event = line ? parseEvent(line) : undefined
        if (event) onEvent(event)
        newline = buffer.indexOf('\n')
      }
    })
    response.body.on('error', () => {})
    response.body.on('close', () => {
      this.#streams.delete(stream)
      void stream.destroy()
      if (!signal.aborted) options.onEnd?.()
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#streams].map((s) => s.destroy()))
    await this.#client.close()
  }
}

/** An event line, or undefined for one that is not JSON (skipped rather than ending the host). */
function parseEvent(line: string): EngineEvent | undefined {
  try {
    return JSON.parse(line) as EngineEvent
  } catch {
    return undefined
  }
}

function engineMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown }
    if (typeof parsed.message === 'string') return parsed.message
  } catch {
    // not JSON: the raw text says what happened
  }
  return body.trim().slice(0, 500)
}
