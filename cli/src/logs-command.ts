// `osiris logs NAME [-f]`: a function's recent console output, then (with -f)
// each new line as it is printed, until Ctrl-C.
import { parse, positiveInt, UsageError } from './args.ts'
import { CONNECT_FLAGS, CONNECT_HELP, connectWith } from './connection.ts'

export const LOGS_USAGE = `Usage: osiris logs NAME [options]

Prints a function's recent console output, one line each: time, level,
version, call id, text.

Options:
  -f, --follow       keep printing new lines as they come, until Ctrl-C
  --limit N          recent lines to print first (default 100)
${CONNECT_HELP}`

export async function logs(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { follow: { type: 'boolean', short: 'f' }, limit: { type: 'string' }, ...CONNECT_FLAGS },
    LOGS_USAGE,
  )
  if (values.help) {
    process.stdout.write(`${LOGS_USAGE}\n`)
    return
  }
  const [name, ...extra] = positionals
  if (!name || extra.length > 0) throw new UsageError(`logs takes one function NAME\n\n${LOGS_USAGE}`)
  const limit = positiveInt('--limit', values.limit)
  const client = connectWith(values)
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    for await (const line of client.logs(name, {
      follow: values.follow ?? false,
      signal: stop.signal,
      ...(limit === undefined ? {} : { limit }),
    })) {
      const time = new Date(line.timeMs).toISOString()
      process.stdout.write(`${time} ${line.level.padEnd(5)} v${line.version} ${line.callId} ${line.line}\n`)
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    client.close()
  }
}
