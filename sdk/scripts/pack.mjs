// Packs @osiris/sdk so it installs alone: builds @osiris/proto and the SDK,
// stages the SDK with proto bundled inside it (bundleDependencies), and runs
// `npm pack` there. Usage: node sdk/scripts/pack.mjs [destination-dir]
// Prints the path of the tarball.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const sdkDir = fileURLToPath(new URL('..', import.meta.url))
const protoDir = join(sdkDir, '..', 'proto')
const tsc = join(sdkDir, '..', 'node_modules', 'typescript', 'bin', 'tsc')
const destination = resolve(process.argv[2] ?? process.cwd())
const quiet = { stdio: ['ignore', 'ignore', 'inherit'] }

execFileSync(process.execPath, [tsc, '-p', join(protoDir, 'tsconfig.build.json')], quiet)
execFileSync(process.execPath, [tsc, '-p', join(sdkDir, 'tsconfig.build.json')], quiet)

/** The package.json a consumer sees: built files only, no source condition, no scripts. */
function published(dir, extra) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  delete pkg.scripts
  pkg.exports = { '.': { types: './dist/index.d.ts', default: './dist/index.js' } }
  return { ...pkg, ...extra }
}

const stage = mkdtempSync(join(tmpdir(), 'osiris-sdk-pack-'))
try {
  const proto = published(protoDir, { files: ['dist', 'osiris', 'grpc'] })
  const bundled = join(stage, 'node_modules', '@osiris', 'proto')
  mkdirSync(bundled, { recursive: true })
  for (const part of ['dist', 'osiris', 'grpc']) cpSync(join(protoDir, part), join(bundled, part), { recursive: true })
  writeFileSync(join(bundled, 'package.json'), `${JSON.stringify(proto, null, 2)}\n`)

  const sdk = published(sdkDir, {
    files: ['dist', 'README.md'],
    dependencies: { ...proto.dependencies, '@osiris/proto': proto.version },
    bundleDependencies: ['@osiris/proto'],
  })
  cpSync(join(sdkDir, 'dist'), join(stage, 'dist'), { recursive: true })
  cpSync(join(sdkDir, 'README.md'), join(stage, 'README.md'))
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(sdk, null, 2)}\n`)

  mkdirSync(destination, { recursive: true })
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', destination], {
    cwd: stage,
    encoding: 'utf8',
  })
  console.log(join(destination, out.trim().split('\n').at(-1)))
} finally {
  rmSync(stage, { recursive: true, force: true })
}
