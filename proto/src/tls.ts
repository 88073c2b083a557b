// TLS between the parts. One cluster CA signs every node's certificate, and a
// certificate says what its holder is in its subject: OU is the role
// (controller, host) and CN the name (a host's id). So:
//   - clients reach the controller over TLS and check it against the CA;
//   - a host dials the controller with its certificate, and the controller
//     registers it only under the id its certificate names;
//   - the controller dials a host with its own certificate, and checks that
//     the host it reached holds the certificate of the id that registered.
// Certificates are read once, at start; restart a process to rotate them.

import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { isIP } from 'node:net'
import { checkServerIdentity, type PeerCertificate, TLSSocket } from 'node:tls'
import * as grpc from '@grpc/grpc-js'
import { OsirisError } from './errors.ts'
import { parseAddress } from './grpc-util.ts'

/** Where a node's TLS material is: PEM files. */
export interface TlsFiles {
  /** This node's certificate. */
  cert: string
  /** Its private key. */
  key: string
  /** The cluster CA: what peers' certificates must be signed by. */
  ca: string
}

/** The same, read: PEM contents. */
export interface TlsMaterial {
  cert: Buffer
  key: Buffer
  ca: Buffer
}

export type NodeRole = 'controller' | 'host'

/** What a certificate says its holder is. */
export interface Identity {
  role: string
  name: string
}

function readPem(what: string, path: string, marker: RegExp): Buffer {
  let pem: Buffer
  try {
    pem = readFileSync(path)
  } catch (error) {
    throw new OsirisError('INVALID_ARGUMENT', `cannot read the TLS ${what} ${path}: ${(error as Error).message}`)
  }
  if (!marker.test(pem.toString('latin1'))) {
    throw new OsirisError('INVALID_ARGUMENT', `the TLS ${what} ${path} is not PEM (no "-----BEGIN" line)`)
  }
  return pem
}

/**
 * Reads the three files; errors name the file at fault. Whether a peer's
 * certificate chains to the CA is the handshake's business, on each side.
 */
export function loadTls(files: TlsFiles): TlsMaterial {
  return {
    cert: readPem('certificate', files.cert, /-----BEGIN CERTIFICATE-----/),
    key: readPem('key', files.key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
    ca: readPem('CA certificate', files.ca, /-----BEGIN CERTIFICATE-----/),
  }
}

/** Role and name from a subject such as "O=Osiris\nOU=host\nCN=host-1". */
function identityOf(subject: string): Identity {
  const field = (key: string): string => new RegExp(`^${key}=(.*)$`, 'm').exec(subject)?.[1] ?? ''
  return { role: field('OU'), name: field('CN') }
}

/** The identity in this node's own certificate. */
export function ownIdentity(material: TlsMaterial): Identity {
  return identityOf(new X509Certificate(material.cert).subject)
}

function fromPeer(cert: PeerCertificate): Identity {
  const first = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''))
  return { role: first(cert.subject?.OU), name: first(cert.subject?.CN) }
}

/** A server call, as far as its peer's certificate goes. */
export interface PeerCall {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate | undefined }
}

/**
 * The identity of the peer on a server call: present only when the peer sent
 * a certificate that chains to the cluster CA.
 */
export function peerIdentity(call: PeerCall): Identity | undefined {
  const cert = call.getAuthContext().sslPeerCertificate
  return cert ? fromPeer(cert) : undefined
}

/** The identity of the peer on an HTTPS request's socket, when its certificate chains to the CA. */
export function socketIdentity(socket: Socket): Identity | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined
  const cert = socket.getPeerCertificate()
  return cert.raw ? fromPeer(cert) : undefined
}

/** Why a peer may not do `what` unless it holds a certificate for `role` (and `name`), or undefined when it may. */
export function refusePeer(
  peer: Identity | undefined,
  role: NodeRole,
  what: string,
  name?: string,
): string | undefined {
  if (!peer) return `${what} needs a client certificate signed by the cluster CA`
  if (peer.role !== role) return `a certificate for a ${peer.role || 'role-less'} peer may not ${what}`
  if (name !== undefined && peer.name !== name) {
    return `the certificate is for "${peer.name}", not "${name}"`
  }
  return undefined
}

/** Hands grpc-js fixed certificates (it wants providers; ours never change while running). */
class FixedCertificates implements grpc.experimental.CertificateProvider {
  readonly #ca: grpc.experimental.CaCertificateUpdate
  readonly #identity: grpc.experimental.IdentityCertificateUpdate

  constructor(ca: Buffer, identity: { cert: Buffer; key: Buffer }) {
    this.#ca = { caCertificate: ca }
    this.#identity = { certificate: identity.cert, privateKey: identity.key }
  }
  // Answered on the next tick, as a provider reading files would: grpc-js
  // registers its watcher only after adding these listeners.
  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    process.nextTick(listener, this.#ca)
  }
  removeCaCertificateListener(): void {}
  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    process.nextTick(listener, this.#identity)
  }
  removeIdentityCertificateListener(): void {}
}

/**
 * Server credentials. `clientCertificates`: 'request' asks every peer for a
 * certificate but serves those without one (the controller: clients use
 * tokens, hosts use certificates); 'require' refuses the handshake without one
 * that chains to the CA (a host: only the controller calls it).
 */
export function serverCredentials(
  tls: TlsMaterial | undefined,
  clientCertificates: 'request' | 'require',
): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure()
  // One provider in both places: grpc-js 1.14 names this function's first two
  // parameters (CA, identity) the other way round from the class it builds.
  const certificates = new FixedCertificates(tls.ca, tls)
  return grpc.experimental.createCertificateProviderServerCredentials(
    certificates,
    certificates,
    clientCertificates === 'require',
  )
}

/** How to dial over TLS: credentials, and the channel options they need. */
export interface TlsDial {
  credentials: grpc.ChannelCredentials
  options: grpc.ChannelOptions
}

/** The host part of a gRPC target such as "127.0.0.1:50051" (or the target itself, as "dns:///name"). */
function hostOf(target: string): string {
  try {
    return parseAddress(target).host
  } catch {
    return target
  }
}

/** The TLS server name sent when dialing an IP address (which may not be one). */
const IP_SERVER_NAME = 'osiris'

/**
 * Dials `address` over TLS, trusting `tls.ca`, presenting the dialer's own
 * certificate when it has one. The server's certificate must name the
 * address's host, as usual, and with `expect` also that role; with
 * `expect.name`, that name instead of the address (hosts are dialed by
 * address but known by id). grpc-js sends the target's host as the TLS server
 * name, which Node refuses to be an IP address (DEP0123): for an IP target
 * another name is sent, and the certificate is still checked against the IP.
 */
export function dialTls(
  address: string,
  tls: { ca: Buffer; cert?: Buffer | undefined; key?: Buffer | undefined },
  expect?: { role: NodeRole; name?: string },
): TlsDial {
  const options: grpc.ChannelOptions = {}
  const host = hostOf(address)
  const name = expect?.name ?? host
  if (expect?.name !== undefined || isIP(host)) {
    options['grpc.ssl_target_name_override'] = expect?.name ?? IP_SERVER_NAME
  }
  const verify: grpc.VerifyOptions = {
    checkServerIdentity: (_sent, cert) => {
      if (expect) {
        const what = `serve as ${expect.role}${expect.name === undefined ? '' : ` "${expect.name}"`}`
        const refusal = refusePeer(fromPeer(cert), expect.role, what, expect.name)
        if (refusal !== undefined) return new Error(refusal)
        if (expect.name !== undefined) return undefined
      }
      return checkServerIdentity(name, cert)
    },
  }
  return { credentials: grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null, verify), options }
}
