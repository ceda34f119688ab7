/**
 * Reads a server-sent event stream (`event:` / `data:` lines, blank line between events) as it arrives.
 * A daemon that dies mid-stream ends it with a DaemonConnectionLostError.
 */
import { connectionError } from './daemon-client.ts'

export interface StreamEvent {
  event: string
  data: string
}

export async function* readEvents(res: Response): AsyncGenerator<StreamEvent> {
  if (res.body === null) return
  const decoder = new TextDecoder()
  let buffered = ''
  const chunks = res.body[Symbol.asyncIterator]()
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>
      try {
        next = await chunks.next()
      } catch (err) {
        throw connectionError(res.url, err)
      }
      if (next.done) return
      buffered += decoder.decode(next.value, { stream: true })
      let end = buffered.indexOf('\n\n')
      while (end >= 0) {
        const block = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        const event = parseBlock(block)
        if (event) yield event
        end = buffered.indexOf('\n\n')
      }
    }
  } finally {
    // A reader that stops early (break) releases the connection.
    await chunks.return?.()
  }
}

/** One event, or null for a comment-only block (keepalives). */
function parseBlock(block: string): StreamEvent | null {
  let event = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart())
  }
  return data.length > 0 ? { event, data: data.join('\n') } : null
}
