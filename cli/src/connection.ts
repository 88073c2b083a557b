// How the client verbs reach the controller: --addr and --ca, else
// $OSIRIS_ADDR and $OSIRIS_CA, through the SDK (which also sends $OSIRIS_TOKEN).
import { readFileSync } from 'node:fs'
import { connect, type OsirisClient } from '@osiris/sdk'
import { UsageError } from './args.ts'

export const CONNECT_FLAGS = {
  addr: { type: 'string' },
  ca: { type: 'string' },
} as const

export const CONNECT_HELP = `  --addr HOST:PORT   controller address (default $OSIRIS_ADDR or 127.0.0.1:50051)
  --ca FILE          TLS: the CA certificate the controller's must chain to
                     (default $OSIRIS_CA; neither: plaintext). Token: $OSIRIS_TOKEN`

export function connectWith(values: { addr?: string | undefined; ca?: string | undefined }): OsirisClient {
  if (values.ca === undefined) return connect(values.addr)
  let ca: Buffer
  try {
    ca = readFileSync(values.ca)
  } catch (error) {
    throw new UsageError(`cannot read --ca ${values.ca}: ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
  return connect(values.addr, { ca })
}

export async function withClient<T>(
  values: { addr?: string | undefined; ca?: string | undefined },
  run: (client: OsirisClient) => Promise<T>,
): Promise<T> {
  const client = connectWith(values)
  try {
    return await run(client)
  } finally {
    client.close()
  }
}
