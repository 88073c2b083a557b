// Arguments the SDK cannot send as JSON without losing them are refused on the
// client, before any request: INVALID_ARGUMENT naming the value and its place.
import t from 'tap'
import { connect } from '../src/index.ts'

// Nothing listens here: every case must fail before the network is used.
const osiris = connect('127.0.0.1:1', { timeoutMs: 200 })
t.teardown(() => osiris.close())

const CASES: [unknown[], string][] = [
  [
    [new Map([['a', 1]])],
    'argument 1 of "f" cannot be encoded as JSON: args[0] is a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))',
  ],
  [[1, Number.NaN], 'argument 2 of "f" cannot be encoded as JSON: args[1] is NaN (JSON has no NaN or Infinity)'],
  [
    [{ x: [Number.POSITIVE_INFINITY] }],
    'argument 1 of "f" cannot be encoded as JSON: args[0].x[0] is Infinity (JSON has no NaN or Infinity)',
  ],
  [
    [undefined, 1],
    'argument 1 of "f" cannot be encoded as JSON: args[0] is undefined (pass null, or leave trailing arguments out)',
  ],
  [
    [{ counts: new Set([1]) }],
    'argument 1 of "f" cannot be encoded as JSON: args[0].counts is a Set (JSON has no Set: convert it, e.g. [...set])',
  ],
  [[10n], 'argument 1 of "f" cannot be encoded as JSON: args[0] is a BigInt (send it as a string, e.g. String(n))'],
  [[() => 1], 'argument 1 of "f" cannot be encoded as JSON: args[0] is a function'],
]

t.test('values JSON would lose are INVALID_ARGUMENT before any request', async (t) => {
  for (const [args, message] of CASES) {
    await t.rejects(osiris.callFunction('f', ...args), { code: 'INVALID_ARGUMENT', message }, message)
  }
})

t.test('trailing undefined arguments are left out, so the function sees them omitted', async (t) => {
  // Encoding succeeds, so the call reaches the (absent) network and fails there, not as INVALID_ARGUMENT.
  const error = await osiris.callFunction('f', 1, undefined, undefined).catch((e: { code: string }) => e)
  t.not((error as { code: string }).code, 'INVALID_ARGUMENT')
})
