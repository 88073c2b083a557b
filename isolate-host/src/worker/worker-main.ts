// Entry of an isolate worker process. Before anything else loads, module
// resolution is adjusted for a worker (module.registerHooks, this thread only):
// - instance.ts's import of fetch-host.ts resolves to remote-fetch.ts (the same
//   CallFetch shape), since a worker has no network: the host fetches for it;
// - '@osiris/proto' resolves to just its error registry, limits, log budget and
//   result checks (what instance.ts, outcome.ts and validation use): the gRPC
//   loader and .proto parsing are most of a worker's start time, and unused here;
// - 'amaro' (TypeScript stripping) resolves to a stand-in that refuses: here
//   TypeScript is stripped in the stripper's own thread (stripper.ts), which
//   loads the real one.
// Then the worker loop starts.
import { registerHooks } from 'node:module'

const LOCAL_FETCH = new URL('../fetch-host.ts', import.meta.url).href
const REMOTE_FETCH = new URL('./remote-fetch.ts', import.meta.url).href
const NO_AMARO = `data:text/javascript,${encodeURIComponent(
  'export default { transformSync() { throw new Error("TypeScript is stripped in the stripper thread") } }',
)}`

/** A module re-exporting the parts of @osiris/proto a worker uses, beside its entry (src/*.ts or dist/*.js). */
function protoLite(entry: string): string {
  const ext = entry.endsWith('.ts') ? '.ts' : '.js'
  const parts = ['errors', 'limits', 'log-budget', 'result-json'].map(
    (name) => `export * from ${JSON.stringify(new URL(`./${name}${ext}`, entry).href)}`,
  )
  return `data:text/javascript,${encodeURIComponent(parts.join('\n'))}`
}

registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'amaro') return { url: NO_AMARO, shortCircuit: true }
    const resolved = next(specifier, context)
    if (specifier === '@osiris/proto') return { url: protoLite(resolved.url), shortCircuit: true }
    return resolved.url === LOCAL_FETCH ? { ...resolved, url: REMOTE_FETCH } : resolved
  },
})

await import('./worker-loop.ts')
