// How the client verbs reach the controller: --addr and --ca, else
// $OSIRIS_ADDR and $OSIRIS_CA, through the SDK (which also sends $OSIRIS_TOKEN).
import { readFileSync } from 'node:fs'
import { connect, type OsirisClient } from '@osiris/sdk'
import { given, UsageError } from './args.ts'

export const CONNECT_FLAGS = {
  addr: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
} as const

export const CONNECT_HELP = `  --addr HOST:PORT   controller address (default $OSIRIS_ADDR or 127.0.0.1:50051)
  --ca FILE          TLS: the CA certificate the controller's must chain to
                     (default $OSIRIS_CA; neither: plaintext). Token: $OSIRIS_TOKEN
  --cert FILE --key FILE  with TLS, a client certificate (osiris certs client)
                     whose role stands in for a token (default $OSIRIS_CERT, $OSIRIS_KEY)`

type ConnectValues = {
  addr?: string | undefined
  ca?: string | undefined
  cert?: string | undefined
  key?: string | undefined
}

function readFlag(flag: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined
  try {
    return readFileSync(file)
  } catch (error) {
    throw new UsageError(`cannot read --${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
}

export function connectWith(values: ConnectValues): OsirisClient {
  return connect(
    values.addr,
    given({ ca: readFlag('ca', values.ca), cert: readFlag('cert', values.cert), key: readFlag('key', values.key) }),
  )
}

export async function withClient<T>(values: ConnectValues, run: (client: OsirisClient) => Promise<T>): Promise<T> {
  const client = connectWith(values)
  try {
    return await run(client)
  } finally {
    client.close()
  }
}
