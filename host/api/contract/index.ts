/**
 * The management API's contract: every route (`routes`) and every answer (`views`), as zod schemas.
 * Any layer may import it (the server, the typed client, the CLI, the MCP server, the UI, tests).
 */

// How a task ended, read from its view (the scheduler's own reading).
export {
  acceptedOutput,
  acceptedResult,
  unclaimableReason,
  whyEnded,
} from '../../scheduler/task-outcome.ts'
export * from './aliases.ts'
export * from './route-path.ts'
export * from './routes.ts'
export * from './run-request.ts'
export * from './usage.ts'
export * from './views.ts'
