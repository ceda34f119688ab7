/** Reads a server-sent event stream (`event:` / `data:` lines, blank line between events) as it arrives. */

export interface StreamEvent {
  event: string
  data: string
}

export async function* readEvents(res: Response): AsyncGenerator<StreamEvent> {
  if (res.body === null) return
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true })
    let end = buffered.indexOf('\n\n')
    while (end >= 0) {
      const block = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      const event = parseBlock(block)
      if (event) yield event
      end = buffered.indexOf('\n\n')
    }
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
