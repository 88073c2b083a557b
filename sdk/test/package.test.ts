// The SDK builds to JavaScript + declarations that plain Node loads without
// this repository's TypeScript sources or source conditions.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { spawnAsUser } from '../../cli/test/helpers/platform.ts'

function run(file: string, args: string[]): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawnAsUser(file, args)
    let stdout = ''
    let stderr = ''
    proc.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
    proc.on('close', (code) =>
      code === 0 ? resolve({ stdout }) : reject(new Error(`${file} exited ${code}: ${stderr}`)),
    )
  })
}
const sdkDir = fileURLToPath(new URL('..', import.meta.url))
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))

t.test('builds to JS + .d.ts that plain Node imports', async (t) => {
  // Inside the package, so @osiris/proto resolves through the workspace as it would from node_modules.
  const out = mkdtempSync(join(sdkDir, '.test-build-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  // The SDK's types come from @osiris/proto's build, as they would once both are published.
  await run(process.execPath, [tsc, '-p', join(sdkDir, '..', 'proto', 'tsconfig.build.json')])
  await run(process.execPath, [tsc, '-p', join(sdkDir, 'tsconfig.build.json'), '--outDir', out])
  t.ok(existsSync(join(out, 'index.js')), 'index.js')
  t.ok(existsSync(join(out, 'index.d.ts')), 'index.d.ts')
  t.ok(existsSync(join(out, 'client.d.ts')), 'client.d.ts')
  // No --conditions flag: @osiris/proto resolves to its built dist, as it would once published.
  const { stdout } = await run(process.execPath, [
    '--input-type=module',
    '-e',
    `const sdk = await import(${JSON.stringify(join(out, 'index.js'))});
     const c = sdk.connect('127.0.0.1:1');
     const err = await c.callFunction('x').catch((e) => e);
     c.close();
     const closed = await c.callFunction('x').catch((e) => e);
     console.log(JSON.stringify([typeof sdk.connect, err instanceof sdk.OsirisError, err.code, closed.code, Object.keys(sdk.ERROR_CODES).length]))`,
  ])
  t.same(JSON.parse(stdout), ['function', true, 'UNAVAILABLE', 'CLOSED', 14])
})
