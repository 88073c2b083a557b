// The container section's seam. Osiris runs non-JS runtimes (Python first) in
// containers through the Docker Engine API on its unix socket; this module
// checks whether an engine answers there, and is where the two container
// measurements go once the container fallback lands: `docker run` of the
// Python runtime image per call, against the Osiris warm generic container
// specialized for a new function. Until then both are recorded as skipped,
// with the reason.
import http from 'node:http'
import type { Skipped } from './measure.ts'

export type Engine = { available: true; socket: string; version: string } | { available: false; reason: string }

/** The engine socket: $DOCKER_HOST when it is unix://, else the default path. */
export function engineSocket(): string {
  const host = process.env.DOCKER_HOST
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock'
}

/** Asks the engine for its version over the socket; never throws. */
export function checkEngine(socket = engineSocket(), timeoutMs = 2000): Promise<Engine> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/version', timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => {
        try {
          const { Version, ApiVersion } = JSON.parse(body) as { Version?: string; ApiVersion?: string }
          resolve({ available: true, socket, version: `Engine ${Version ?? '?'}, API ${ApiVersion ?? '?'}` })
        } catch {
          resolve({
            available: false,
            reason: `${socket} answered, but not as a Docker engine (HTTP ${res.statusCode})`,
          })
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ available: false, reason: `no Docker engine answers on ${socket} (${error.code ?? error.message})` }),
    )
  })
}

export interface Containers {
  engine: Engine
  results: Skipped[]
}

const MEASUREMENTS = [
  ['docker-run', '`docker run` of the Python runtime image, per call'],
  ['container-warm', 'Osiris warm generic container, specialized for a new function'],
] as const

export async function measureContainers(): Promise<Containers> {
  const engine = await checkEngine()
  const reason = engine.available
    ? `the engine answers (${engine.version}), but the container fallback is not in the bench yet`
    : engine.reason
  return { engine, results: MEASUREMENTS.map(([id, label]) => ({ id, label, skipped: reason })) }
}
