// A password for `wharf ctl add-user`: on a terminal, asked twice with nothing echoed (raw mode, the
// prompt on stderr); otherwise the first line of stdin, so scripts can pipe it in.
import { CtlError, type CtlIo } from './ctl-io.ts'

const passwordCharsMax = 1024

export async function readPassword(io: CtlIo, prompt: string): Promise<string> {
  if (io.stdin.isTTY === true && io.stdin.setRawMode !== undefined) {
    const first = await readHidden(io, prompt)
    const again = await readHidden(io, 'Again: ')
    if (first !== again) throw new CtlError(1, 'the passwords differ')
    return first
  }
  return await firstLine(io.stdin)
}

function readHidden(io: CtlIo, prompt: string): Promise<string> {
  const stdin = io.stdin
  io.stderr.write(prompt)
  return new Promise((resolve, reject) => {
    let typed = ''
    const finish = (err: Error | null): void => {
      stdin.removeListener('data', onData)
      stdin.setRawMode?.(false)
      stdin.pause()
      io.stderr.write('\n')
      if (err === null) resolve(typed)
      else reject(err)
    }
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish(null)
          return
        }
        if (ch === '\u0003') {
          finish(new CtlError(130, 'interrupted'))
          return
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1)
        else if (typed.length < passwordCharsMax) typed += ch
      }
    }
    stdin.setRawMode?.(true)
    stdin.on('data', onData)
    stdin.resume()
  })
}

async function firstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of stdin) {
    text += chunk.toString()
    const nl = text.indexOf('\n')
    if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '')
    if (text.length > passwordCharsMax) break
  }
  return text.replace(/\r?\n$/, '')
}
