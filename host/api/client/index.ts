/** The typed client of the daemon's management API (for the CLI, the MCP server, the web UI and tests). */
export * from './api-client.ts'
export * from './errors.ts'
