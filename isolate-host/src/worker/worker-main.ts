// Entry of an isolate worker process. Before anything else loads, the
// worker's fetch is pointed at the host: instance.ts's import of
// fetch-host.ts resolves to remote-fetch.ts here (same CallFetch shape), since
// a worker has no network of its own. Then the worker loop starts.
import { registerHooks } from 'node:module'

const LOCAL = new URL('../fetch-host.ts', import.meta.url).href
const REMOTE = new URL('./remote-fetch.ts', import.meta.url).href

registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context)
    // remote-fetch.ts itself still reads the limits from the real module.
    return resolved.url === LOCAL && context.parentURL !== REMOTE ? { ...resolved, url: REMOTE } : resolved
  },
})

await import('./worker-loop.ts')
