// `osiris VERB [args]`: dispatches to the verb, prints usage, and turns any
// failure into `error CODE: message` on stderr with a non-zero exit.
import { FunctionError, OsirisError } from '@osiris/sdk'
import { UsageError } from './args.ts'
import { certs } from './certs.ts'
import * as client from './client-commands.ts'
import { logs } from './logs-command.ts'
import { runtime } from './runtime-commands.ts'
import * as servers from './server-commands.ts'

const USAGE = `Usage: osiris VERB [options]

Run the platform:
  start        controller + one supervised isolate host on this machine
  controller   the controller alone
  host         an isolate host that joins a controller
  runtime      build container runtime images (runtime build python)
  certs        make a development CA and certificates for TLS (certs init)

Use it:
  deploy FILE  deploy a module's functions
  call NAME    call a function with JSON arguments
  ls           list deployed functions
  rm NAME      remove a function
  logs NAME    print a function's console output (-f to follow)
  hosts        list the controller's hosts and their load

\`osiris VERB --help\` describes each verb. Client verbs reach the controller
at --addr, else $OSIRIS_ADDR, else 127.0.0.1:50051.`

const VERBS: Record<string, (argv: string[]) => Promise<void>> = {
  start: servers.start,
  controller: servers.controller,
  host: servers.host,
  deploy: client.deploy,
  call: client.call,
  ls: client.ls,
  rm: client.rm,
  logs,
  hosts: client.hosts,
  runtime,
  certs,
}

function fail(error: unknown): void {
  if (error instanceof UsageError) {
    process.stderr.write(`error USAGE: ${error.message}\n`)
    process.exitCode = 2
    return
  }
  if (error instanceof OsirisError) {
    process.stderr.write(`error ${error.code}: ${error.message}\n`)
    if (error instanceof FunctionError && error.guest.stack) process.stderr.write(`${error.guest.stack}\n`)
    if (error.started === 'maybe') process.stderr.write('started: maybe (it may have run; it was not sent again)\n')
    if (error.started === 'never') process.stderr.write('started: never (it did not run; safe to send again)\n')
  } else {
    process.stderr.write(`error INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`)
  }
  process.exitCode = 1
}

const [verb, ...argv] = process.argv.slice(2)
if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
  process.stdout.write(`${USAGE}\n`)
} else {
  const run = VERBS[verb]
  if (!run) fail(new UsageError(`unknown verb "${verb}"\n\n${USAGE}`))
  else await run(argv).catch(fail)
}
