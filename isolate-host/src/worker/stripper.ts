// A disposable TypeScript stripper. amaro (swc built to WebAssembly) keeps one
// instance per thread, and a hostile input can leave it broken for every later
// input (1000 nested parentheses: "memory access out of bounds" ever after).
// So it runs in a thread of its own, and any failure that is not a plain
// syntax error ends that thread: the next deploy gets a fresh one, and the
// input that broke it is that deployer's COMPILE_ERROR.
import { Worker } from 'node:worker_threads'
import { OsirisError } from '@osiris/proto'

interface Answer {
  id: number
  code?: string
  syntax?: { message: string; line: number; column: number }
  broke?: string
}

/** Longest a strip may take before the thread is ended and the deploy refused, ms. */
const STRIP_TIMEOUT_MS = 10_000

export class TypeStripper {
  #thread: Worker | undefined
  #jobs = 0
  /** Threads ended because an input broke them (for tests and status). */
  replaced = 0

  /** TypeScript → JavaScript (types erased in place). Throws COMPILE_ERROR naming line and column. */
  strip(source: string, filename: string): Promise<string> {
    const thread = this.#thread ?? this.#start()
    const id = ++this.#jobs
    return new Promise<string>((resolve, reject) => {
      const fail = (why: string): void => {
        cleanup()
        this.#replace(thread)
        reject(
          new OsirisError(
            'COMPILE_ERROR',
            `${filename} does not compile: the TypeScript stripper failed on it (${why})`,
          ),
        )
      }
      const onMessage = (answer: Answer): void => {
        if (answer.id !== id) return
        if (answer.code !== undefined) {
          cleanup()
          resolve(answer.code)
        } else if (answer.syntax) {
          cleanup()
          // A syntax error may still have left swc's memory in a bad state: start over next time.
          this.#replace(thread)
          const { message, line, column } = answer.syntax
          reject(
            new OsirisError(
              'COMPILE_ERROR',
              `${filename} does not compile: ${message} (line ${line}, column ${column})`,
            ),
          )
        } else fail(answer.broke ?? 'no answer')
      }
      const onError = (error: Error): void => fail(error.message)
      const onExit = (code: number): void => fail(`its thread exited with code ${code}`)
      const timer = setTimeout(() => fail(`no answer within ${STRIP_TIMEOUT_MS} ms`), STRIP_TIMEOUT_MS)
      const cleanup = (): void => {
        clearTimeout(timer)
        thread.off('message', onMessage)
        thread.off('error', onError)
        thread.off('exit', onExit)
      }
      thread.on('message', onMessage)
      thread.on('error', onError)
      thread.on('exit', onExit)
      thread.postMessage({ id, source })
    })
  }

  #start(): Worker {
    const thread = new Worker(new URL('./stripper-thread.ts', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    })
    thread.unref()
    this.#thread = thread
    return thread
  }

  #replace(thread: Worker): void {
    if (this.#thread === thread) this.#thread = undefined
    this.replaced++
    void thread.terminate()
  }

  close(): Promise<void> {
    const thread = this.#thread
    this.#thread = undefined
    return thread ? thread.terminate().then(() => {}) : Promise.resolve()
  }
}
