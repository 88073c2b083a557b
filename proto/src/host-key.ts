// The credential a controller presents to a host. Each host makes a random
// call key when it starts and sends it in its registration, over its own
// Connect stream to the controller it authenticated with (token or mTLS); the
// controller attaches it to every HostService call as `osiris-call-key`
// metadata, and the host answers nothing without it. An outsider who can
// reach a host's port cannot learn it: no API returns it and the host never
// sends it anywhere but to its controller.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'

/** The metadata key the controller sends a host's call key under. */
export const CALL_KEY_METADATA = 'osiris-call-key'

/** A fresh call key: 32 random bytes from the CSPRNG, base64url (43 characters). */
export function newCallKey(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Whether `presented` is `expected`, in time that does not depend on where
 * they differ (both are hashed to 32 bytes, then compared in full). An empty
 * or missing key never matches.
 */
export function secretMatches(expected: string, presented: string | undefined): boolean {
  return secretChecker(expected)(presented)
}

/** `secretMatches` against one `expected`, its digest computed once (for a check on every call). */
export function secretChecker(expected: string): (presented: string | undefined) => boolean {
  const digest = createHash('sha256').update(expected).digest()
  return (presented) =>
    expected !== '' &&
    presented !== undefined &&
    presented !== '' &&
    timingSafeEqual(digest, createHash('sha256').update(presented).digest())
}

/** A client interceptor that sends `key` as `osiris-call-key` on every call of the channel. */
export function callKeyInterceptor(key: string): grpc.Interceptor {
  return (options, next) =>
    new grpc.InterceptingCall(next(options), {
      start(metadata, listener, start) {
        metadata.set(CALL_KEY_METADATA, key)
        start(metadata, listener)
      },
    })
}

/** Loopback only: what a server may bind when it has no way to authenticate its callers. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}
