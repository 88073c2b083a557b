// Which errors count as a function's limit breach, for the controller's and
// the hosts' metrics: the executors' own messages, and the errors that share
// a code with a breach but are something else.
import t from 'tap'
import { breachOf } from '../src/limits.ts'

t.test("the executors' limit errors, by kind", async (t) => {
  const cases: [string, string, string][] = [
    ['DEADLINE_EXCEEDED', 'function "f" ran past its 300 ms timeout', 'time'],
    ['DEADLINE_EXCEEDED', 'function "f" ran past its 300 ms limit; its container was killed', 'time'],
    ['DEADLINE_EXCEEDED', 'module "m" v3: top-level code ran past its timeout', 'time'],
    ['DEADLINE_EXCEEDED', 'function "f" used more than 50 ms of CPU time', 'cpu'],
    ['DEADLINE_EXCEEDED', 'function "f" used more than 50 ms of CPU time; its container was killed', 'cpu'],
    ['RESOURCE_EXHAUSTED', 'function "f" ran past its 64 MiB memory limit and was stopped', 'memory'],
    ['RESOURCE_EXHAUSTED', 'function "f" went over its memory limit of 64 MiB; its container was killed', 'memory'],
    ['RESOURCE_EXHAUSTED', 'module "m" v3: top-level code ran past its memory limit', 'memory'],
    ['PAYLOAD_TOO_LARGE', 'function "f" returned more than its limit of 1048576 bytes of JSON', 'result'],
    [
      'RESULT_NOT_JSON',
      'function "f" returned a value that cannot be encoded as JSON: it nests deeper than 128 levels',
      'result',
    ],
  ]
  for (const [code, message, kind] of cases) t.equal(breachOf(code, message), kind, message)
})

t.test('errors that share a code with a breach but are not one', async (t) => {
  const cases: [string, string][] = [
    ['DEADLINE_EXCEEDED', 'call of "f" waited 212 ms for a free instance and reached its deadline'],
    ['RESOURCE_EXHAUSTED', 'function "f" has 4 calls waiting for an instance, the most allowed; retry in 100 ms'],
    ['RESOURCE_EXHAUSTED', 'host is at its limit of 64 instances, all busy'],
    ['PAYLOAD_TOO_LARGE', 'arguments of "f" are 2000000 bytes; the limit is 1048576'],
    ['PAYLOAD_TOO_LARGE', 'request body is over the 1048576 byte limit'],
    ['RESULT_NOT_JSON', 'function "f" returned a value that cannot be encoded as JSON: BigInt'],
    ['UNAVAILABLE', 'function "f" ran past its 300 ms timeout'],
  ]
  for (const [code, message] of cases) t.equal(breachOf(code, message), undefined, message)
})
