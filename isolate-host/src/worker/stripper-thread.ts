// The TypeScript stripper's thread (see stripper.ts): amaro's WebAssembly
// build, fresh in every thread. Answers each { id, source } with the code,
// amaro's own syntax error (message and position), or how it broke.
import { parentPort } from 'node:worker_threads'
import amaro from 'amaro'

interface Job {
  id: number
  source: string
}

parentPort?.on('message', ({ id, source }: Job) => {
  try {
    parentPort?.postMessage({ id, code: amaro.transformSync(source, { mode: 'strip-only' }).code })
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'startLine' in error && 'startColumn' in error) {
      const { message, startLine, startColumn } = error as {
        message: unknown
        startLine: unknown
        startColumn: unknown
      }
      parentPort?.postMessage({
        id,
        syntax: { message: String(message), line: Number(startLine), column: Number(startColumn) + 1 },
      })
    } else {
      parentPort?.postMessage({ id, broke: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
    }
  }
})
