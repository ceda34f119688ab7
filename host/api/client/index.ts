/** The typed client of the daemon's management API (for the CLI, the MCP server, the web UI and tests). */

export { type FollowToEndOptions, followToEnd } from '../../scheduler/task-follow.ts'
export * from './api-client.ts'
export type { ApiClientInit, CallOptions } from './api-transport.ts'
export type { ChatAnswer, ChatOptions, ChatRequest } from './chat-completion.ts'
export * from './errors.ts'
export type { LoadModelOptions, PullModelOptions } from './model-progress.ts'
export type { RunEvent, RunRequestOptions } from './run-request.ts'
