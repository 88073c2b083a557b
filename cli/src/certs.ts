// `osiris certs init` and `osiris certs host ID`: a development CA and the
// certificates the controller and hosts need for TLS and mTLS, made with the
// openssl command. A certificate's subject says what its holder is (proto's
// tls.ts): OU=controller or OU=host, and a host's id as CN.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { parse, positiveInt, UsageError } from './args.ts'

const run = promisify(execFile)

export const DEFAULT_CERTS_DIR = '.osiris/certs'

export const CERTS_USAGE = `Usage: osiris certs init [options]
       osiris certs host ID [options]
       osiris certs client NAME --role admin|invoke [options]

Makes what TLS needs, for development and small clusters:
  init         a CA, the controller's certificate, and certificates for hosts
               host-1 … host-N, in DIR
  host ID      one more host certificate, signed by the CA already in DIR
  client NAME  a client certificate whose role (admin or invoke) the
               controller takes as credentials when auth is on, instead of a
               token: --cert DIR/client-NAME.pem --key DIR/client-NAME.key

Options:
  --dir DIR      where the files go (default ./${DEFAULT_CERTS_DIR})
  --hosts N      init: host certificates to make (default 1)
  --name NAME    another DNS name or IP address the controller (init) or the
                 host (host ID) is reached at, besides localhost and 127.0.0.1
                 (repeatable)
  --days N       how long the certificates are valid (default 365)
  --force        init: replace the CA in DIR (what it signed stops working)
  --role ROLE    client: admin or invoke

Files: ca.pem (clients trust it: --ca FILE or OSIRIS_CA), ca.key (keep it
secret), controller.pem + .key, host-N.pem + .key. Then:
  osiris start --tls DIR
  osiris controller --tls DIR        osiris host --tls DIR --id host-N
Needs the openssl command.`

/** A host id or DNS name: what may go into a subject or a SAN without quoting. */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/

function altName(name: string): string {
  if (isIP(name)) return `IP:${name}`
  if (!NAME.test(name)) throw new UsageError(`--name "${name}" is neither an IP address nor a DNS name`)
  return `DNS:${name}`
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args)
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') {
      throw new Error('osiris certs needs the openssl command; install it (e.g. apt-get install openssl)')
    }
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`)
  }
}

interface Subject {
  /** File name stem in the directory: ca, controller, host-1, client-NAME … */
  file: string
  role: 'ca' | 'controller' | 'host' | 'admin' | 'invoke'
  cn: string
  altNames: string[]
}

/** An EC P-256 key, readable by its owner only. */
async function makeKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path])
  await chmod(path, 0o600)
}

const subjectLine = (s: Subject): string => `/O=Osiris/OU=${s.role}/CN=${s.cn}`

async function makeCa(dir: string, days: number, work: string): Promise<void> {
  const key = join(dir, 'ca.key')
  await makeKey(key)
  const config = join(work, 'ca.cnf')
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ca',
      '[dn]',
      '[ca]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  )
  const subject = subjectLine({ file: 'ca', role: 'ca', cn: 'Osiris development CA', altNames: [] })
  const args = ['req', '-x509', '-new', '-config', config, '-key', key, '-sha256', '-days', String(days)]
  await openssl([...args, '-subj', subject, '-out', join(dir, 'ca.pem')])
}

/** A certificate for `s`, signed by the CA in `dir`: to serve and to dial, or (no altNames) only to dial. */
async function makeLeaf(dir: string, s: Subject, days: number, work: string): Promise<void> {
  const key = join(dir, `${s.file}.key`)
  await makeKey(key)
  const csr = join(work, `${s.file}.csr`)
  const config = join(work, `${s.file}.cnf`)
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      '[dn]',
      '[leaf]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      s.altNames.length > 0 ? 'extendedKeyUsage = serverAuth, clientAuth' : 'extendedKeyUsage = clientAuth',
      ...(s.altNames.length > 0 ? [`subjectAltName = ${s.altNames.join(', ')}`] : []),
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  )
  await openssl(['req', '-new', '-config', config, '-key', key, '-subj', subjectLine(s), '-out', csr])
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, 'ca.pem'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    String(days),
    '-sha256',
    '-extfile',
    config,
    '-extensions',
    'leaf',
    '-out',
    join(dir, `${s.file}.pem`),
  ])
}

const LOCAL_NAMES = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']

export function hostSubject(id: string, names: readonly string[]): Subject {
  if (!NAME.test(id)) throw new UsageError(`host id "${id}" may hold only letters, digits, ".", "_" and "-"`)
  // No loopback names: a host is dialed by the id its certificate names, and a
  // host certificate must not pass for the controller's address.
  return { file: id, role: 'host', cn: id, altNames: [`DNS:${id}`, ...names.map(altName)] }
}

function requireCa(dir: string): void {
  if (!existsSync(join(dir, 'ca.key'))) {
    throw new UsageError(`${dir} has no CA (ca.key); run osiris certs init --dir ${dir} first`)
  }
}

async function inWorkDir(fn: (work: string) => Promise<void>): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'osiris-certs-'))
  try {
    await fn(work)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

export async function certs(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      dir: { type: 'string' },
      hosts: { type: 'string' },
      name: { type: 'string', multiple: true },
      days: { type: 'string' },
      force: { type: 'boolean' },
      role: { type: 'string' },
    },
    CERTS_USAGE,
  )
  if (values.help) {
    process.stdout.write(`${CERTS_USAGE}\n`)
    return
  }
  const dir = resolve(values.dir ?? DEFAULT_CERTS_DIR)
  const days = positiveInt('--days', values.days) ?? 365
  const names = values.name ?? []
  const [action, ...rest] = positionals
  const made: string[] = []
  if (values.role !== undefined && action !== 'client') throw new UsageError('--role goes with certs client')
  if (action === 'init' && rest.length === 0) {
    if (existsSync(join(dir, 'ca.pem')) && !values.force) {
      throw new UsageError(`${dir} already has a CA (ca.pem); pass --force to replace it and everything it signed`)
    }
    const hosts = positiveInt('--hosts', values.hosts) ?? 1
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await inWorkDir(async (work) => {
      await makeCa(dir, days, work)
      made.push('ca.pem', 'ca.key')
      const controller: Subject = {
        file: 'controller',
        role: 'controller',
        cn: 'osiris-controller',
        altNames: [...LOCAL_NAMES, ...names.map(altName)],
      }
      await makeLeaf(dir, controller, days, work)
      made.push('controller.pem', 'controller.key')
      for (let i = 1; i <= hosts; i++) {
        await makeLeaf(dir, hostSubject(`host-${i}`, []), days, work)
        made.push(`host-${i}.pem`, `host-${i}.key`)
      }
    })
  } else if (action === 'host' && rest.length === 1 && rest[0]) {
    if (values.hosts !== undefined || values.force) throw new UsageError('--hosts and --force go with certs init')
    requireCa(dir)
    const subject = hostSubject(rest[0], names)
    await inWorkDir((work) => makeLeaf(dir, subject, days, work))
    made.push(`${subject.file}.pem`, `${subject.file}.key`)
  } else if (action === 'client' && rest.length === 1 && rest[0]) {
    const role = values.role
    if (role !== 'admin' && role !== 'invoke') throw new UsageError('certs client needs --role admin or --role invoke')
    if (names.length > 0) throw new UsageError('--name goes with init and host, not client')
    const name = rest[0]
    if (!NAME.test(name)) throw new UsageError(`client name "${name}" may hold only letters, digits, ".", "_" and "-"`)
    requireCa(dir)
    const subject: Subject = { file: `client-${name}`, role, cn: name, altNames: [] }
    await inWorkDir((work) => makeLeaf(dir, subject, days, work))
    made.push(`${subject.file}.pem`, `${subject.file}.key`)
  } else {
    throw new UsageError(`certs takes "init", "host ID" or "client NAME"\n\n${CERTS_USAGE}`)
  }
  process.stdout.write(`wrote ${made.join(', ')} in ${dir}\n`)
}
