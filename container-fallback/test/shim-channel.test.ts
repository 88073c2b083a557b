// The host's end of a shim connection, driven over a real unix socket by a
// stand-in shim written here: answers cut across writes, several answers in
// one write, a character split across writes, an answer over the line limit
// and one that is not JSON.
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { ChannelClosed, MAX_LINE_BYTES, ShimChannel } from '../src/shim-channel.ts'

interface Pair {
  channel: ShimChannel
  shim: Socket
  /** Resolves the next request line the stand-in shim receives. */
  nextRequest: () => Promise<string>
}

async function pair(t: Test): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'osiris-shim-'))
  const channel = await ShimChannel.listen(dir)
  const shim = connect(channel.path)
  let received = ''
  let waiting: ((line: string) => void) | undefined
  shim.setEncoding('utf8')
  const deliver = (): void => {
    const newline = received.indexOf('\n')
    if (newline < 0 || !waiting) return
    const line = received.slice(0, newline)
    received = received.slice(newline + 1)
    waiting(line)
    waiting = undefined
  }
  shim.on('data', (chunk: string) => {
    received += chunk
    deliver()
  })
  shim.on('error', () => {})
  t.teardown(() => {
    shim.destroy()
    channel.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const hello = channel.hello(AbortSignal.timeout(5_000))
  shim.write('{"hello":')
  shim.write('"shim"}\n')
  t.same(await hello, { hello: 'shim' }, 'the hello line, sent in two writes')
  const nextRequest = (): Promise<string> =>
    new Promise((resolve) => {
      waiting = resolve
      deliver()
    })
  return { channel, shim, nextRequest }
}

function write(shim: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => shim.write(data, (error) => (error ? reject(error) : resolve())))
}

t.test('answers are split on newlines whatever the writes', async (t) => {
  const { channel, shim, nextRequest } = await pair(t)
  const request = nextRequest()
  const first = channel.request({ call: 1 })
  t.equal(await request, '{"call":1}', 'the request went out as one line')
  const text = Buffer.from('{"value":"naïve ✓"}\n', 'utf8')
  const split = text.indexOf(0xc3) + 1 // inside the two bytes of ï
  await write(shim, text.subarray(0, split))
  await write(shim, text.subarray(split))
  t.same(await first, { value: 'naïve ✓' }, 'a character split across writes is whole')

  const second = channel.request({ call: 2 })
  let closed = 0
  channel.onClose = () => closed++
  await write(shim, '{"n":2}\n{"stray":true}\n')
  t.same(await second, { n: 2 }, 'the first of two lines in one write answers the request')
  t.equal(closed, 1, 'the second, with no request pending, is a protocol violation: the channel closes')
  await t.rejects(channel.request({ call: 3 }), ChannelClosed, 'nothing more is sent')
})

t.test('output with no request pending closes the channel, unparsed and unbuffered', async (t) => {
  const { channel, shim, nextRequest } = await pair(t)
  const request = nextRequest()
  const first = channel.request({ call: 1 })
  await request
  await write(shim, '{"n":1}\n')
  t.same(await first, { n: 1 })
  const closed = new Promise<void>((resolve) => {
    channel.onClose = resolve
  })
  // A thread left behind by the call writes large lines on the socket, outside any call.
  const flood = Buffer.alloc(256 * 1024, 0x7b)
  for (let i = 0; i < 4; i++) void write(shim, flood).catch(() => {})
  await closed
  t.pass('the channel closed on the first unsolicited bytes')
  await t.rejects(channel.request({ call: 2 }), ChannelClosed, 'nothing more is sent')
})

t.test('a long answer arriving in many pieces', async (t) => {
  const { channel, shim } = await pair(t)
  const answer = channel.request({ call: 1 })
  const body = 'x'.repeat(4 * 1024 * 1024)
  await write(shim, `{"value":"${body}`)
  await write(shim, '"}\n')
  const got = await answer
  t.equal((got.value as string).length, body.length, 'every byte arrived')
})

t.test('an answer over the line limit fails the request and closes the channel', async (t) => {
  const { channel, shim } = await pair(t)
  let closed = 0
  channel.onClose = () => closed++
  const answer = channel.request({ call: 1 })
  const piece = Buffer.alloc(1024 * 1024, 0x61)
  const writes: Promise<void>[] = []
  for (let sent = 0; sent <= MAX_LINE_BYTES; sent += piece.length) writes.push(write(shim, piece).catch(() => {}))
  await t.rejects(answer, {
    code: 'PAYLOAD_TOO_LARGE',
    message: `the shim sent more than ${MAX_LINE_BYTES} bytes in one answer`,
  })
  await Promise.all(writes)
  t.equal(closed, 1, 'onClose ran once')
  await t.rejects(channel.request({ call: 2 }), ChannelClosed, 'nothing more is sent')
})

t.test('a line that is not a JSON object fails the request', async (t) => {
  const { channel, shim } = await pair(t)
  const answer = channel.request({ call: 1 })
  await write(shim, '[1,2]\n')
  await t.rejects(answer, {
    code: 'INTERNAL',
    message: 'the shim sent a line that is not a JSON object: [1,2]',
  })
})

t.test('the shim going away rejects the request in flight', async (t) => {
  const { channel, shim } = await pair(t)
  const answer = channel.request({ call: 1 })
  await t.rejects(channel.request({ call: 2 }), {
    code: 'INTERNAL',
    message: 'a shim request is already in flight',
  })
  shim.end()
  await t.rejects(answer, new ChannelClosed('the shim connection closed'))
})
