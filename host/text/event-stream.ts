/**
 * Reads a server-sent event stream (`event:` / `data:` lines, blank line between events) as it
 * arrives. Uses the stream's reader, not async iteration, so browsers without it can use it too.
 * A connection lost mid-stream ends it with the error `lost` makes of it (the API client's names
 * the daemon; the engine's names llama-server).
 */

export interface StreamEvent {
  event: string
  data: string
}

export async function* readEvents(
  body: ReadableStream<Uint8Array>,
  lost: (err: unknown) => Error,
): AsyncGenerator<StreamEvent> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>
      try {
        chunk = await reader.read()
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err
        throw lost(err)
      }
      const { done, value } = chunk
      if (done) return
      buffered += decoder.decode(value, { stream: true })
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
