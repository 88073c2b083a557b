// The servers' own log lines (controller, hosts, supervisor): plain text by
// default, one JSON object per line with OSIRIS_LOG_FORMAT=json, for log
// collectors. Function console output is not here: see `osiris logs`.
export type Level = 'debug' | 'info' | 'warn' | 'error'

const JSON_FORMAT = process.env.OSIRIS_LOG_FORMAT === 'json'

/** Writes one log line to stdout; `fields` appear only in the JSON form. */
export function log(message: string, fields: Record<string, unknown> = {}, level: Level = 'info'): void {
  const line = JSON_FORMAT
    ? JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })
    : message
  process.stdout.write(`${line}\n`)
}
