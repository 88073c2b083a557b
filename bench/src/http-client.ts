// A minimal keep-alive HTTP client over node:http for the loopback HTTP
// measurements (workerd, the Osiris gateway): one agent per target, so warm
// requests reuse connections as a real caller's would.
import http from 'node:http'

export class HttpTarget {
  readonly base: URL
  readonly #agent: http.Agent

  constructor(base: string, maxSockets = 64) {
    this.base = new URL(base)
    if (!/^127\./.test(this.base.hostname)) throw new Error(`bench traffic stays on loopback, not ${base}`)
    this.#agent = new http.Agent({ keepAlive: true, maxSockets })
  }

  /** Sends one request; resolves the body, rejects on a non-2xx status. */
  request(path: string, body?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        new URL(path, this.base),
        { method: body === undefined ? 'GET' : 'POST', agent: this.#agent },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (text += chunk))
          res.on('end', () => {
            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300) resolve(text)
            else reject(new Error(`${path}: HTTP ${status}: ${text}`))
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  close(): void {
    this.#agent.destroy()
  }
}
