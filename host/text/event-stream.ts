/**
 * Reads a server-sent event stream (`event:` / `data:` lines, blank line between events) as it
 * arrives: a web stream (read with its reader, not async iteration, so browsers without it can use
 * it too) or a Node stream.
 * A connection lost mid-stream ends it with the error `lost` makes of it (the API client's names
 * the daemon; the engine's names llama-server).
 */

export interface StreamEvent {
  event: string
  data: string
}

export async function* readEvents(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  lost: (err: unknown) => Error,
): AsyncGenerator<StreamEvent> {
  const chunks = ('getReader' in body ? readerChunks(body) : body)[Symbol.asyncIterator]()
  const decoder = new TextDecoder()
  let buffered = ''
  try {
    for (;;) {
      let chunk: IteratorResult<Uint8Array>
      try {
        chunk = await chunks.next()
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err
        throw lost(err)
      }
      if (chunk.done) return
      buffered += decoder.decode(chunk.value, { stream: true })
      let end = buffered.indexOf('\n\n')
      while (end >= 0) {
        const event = parseBlock(buffered.slice(0, end))
        buffered = buffered.slice(end + 2)
        if (event) yield event
        end = buffered.indexOf('\n\n')
      }
    }
  } finally {
    // A caller that stops early (break, abort) closes the connection.
    await chunks.return?.().catch(() => {})
  }
}

async function* readerChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    await reader.cancel().catch(() => {})
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
