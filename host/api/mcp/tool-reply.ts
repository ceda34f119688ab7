/**
 * What every tool answers with, and progress sent back to the MCP client. A tool that throws is
 * answered as a tool error with the message (the API's, naming each field at fault) by the SDK.
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js'
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js'

export const JSON_TYPE = 'application/json'

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>

/** A JSON answer: as text (every client reads it) and as structured content. */
export function jsonResult(value: Record<string, unknown>) {
  return {
    content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }],
    structuredContent: value,
  }
}

/**
 * Sends `notifications/progress` for a call whose client asked for them (a progress token), each
 * with a message (a token of generated text, a status line); a no-op otherwise.
 */
export function progressSender(extra: ToolExtra): (message: string) => void {
  const progressToken = extra._meta?.progressToken
  let progress = 0
  return (message) => {
    if (progressToken === undefined) return
    progress += 1
    // A client gone away is the cancellation's business; a lost notification changes nothing.
    extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } })
      .catch(() => {})
  }
}
