// The workerd side of the peer comparison (served by `workerd serve`, not by
// Node). GET /add runs addNumbers(3, 5) in this already-loaded worker (warm);
// GET /load?id=NAME runs it in a Worker built from new code through the
// dynamic worker loader binding, which loads a Worker the first time NAME is
// seen (cold) and reuses it after (warm dynamic worker).
export function addNumbers(a, b) {
  return a + b
}

function dynamicSource(id) {
  return `export function addNumbers(a, b) { return a + b } // ${id}
export default { fetch() { return new Response(JSON.stringify(addNumbers(3, 5))) } }`
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    if (url.pathname === '/add') return new Response(JSON.stringify(addNumbers(3, 5)))
    if (url.pathname === '/load') {
      const id = url.searchParams.get('id') ?? 'none'
      const worker = env.LOADER.get(id, async () => ({
        compatibilityDate: '2025-06-01',
        mainModule: 'fn.js',
        modules: { 'fn.js': dynamicSource(id) },
        globalOutbound: null,
      }))
      return worker.getEntrypoint().fetch('http://fn/')
    }
    return new Response('not found', { status: 404 })
  },
}
