import { describe, expect, it } from 'vitest'
import { type AgentSession, agentSession, sessionName } from '../../../host/requests/agent-session.ts'

const UUID = '8f1f0b18-2fb3-4c24-9a9a-0123456789ab'

describe('agentSession', () => {
  const cases: [string, Record<string, string | string[]>, AgentSession | null][] = [
    ['no header: the prefix hash stands', { 'content-type': 'application/json' }, null],
    [
      'Claude Code, main conversation',
      { 'x-claude-code-session-id': UUID },
      { agent: 'claude-code', id: UUID, thread: null, parent: null },
    ],
    [
      'Claude Code subagent (its parent the main conversation)',
      { 'x-claude-code-session-id': UUID, 'x-claude-code-agent-id': 'a1b2' },
      { agent: 'claude-code', id: UUID, thread: 'a1b2', parent: null },
    ],
    [
      'Claude Code subagent of a subagent',
      {
        'x-claude-code-session-id': UUID,
        'x-claude-code-agent-id': 'c3',
        'x-claude-code-parent-agent-id': 'a1b2',
      },
      { agent: 'claude-code', id: UUID, thread: 'c3', parent: 'a1b2' },
    ],
    [
      'a parent without a thread says nothing',
      { 'x-claude-code-session-id': UUID, 'x-claude-code-parent-agent-id': 'a1b2' },
      { agent: 'claude-code', id: UUID, thread: null, parent: null },
    ],
    ['Codex', { 'session-id': UUID }, { agent: 'codex', id: UUID, thread: null, parent: null }],
    ['Codex, older releases', { session_id: UUID }, { agent: 'codex', id: UUID, thread: null, parent: null }],
    [
      'Codex, a thread equal to its session is the main one',
      { 'session-id': UUID, 'thread-id': UUID },
      { agent: 'codex', id: UUID, thread: null, parent: null },
    ],
    [
      'Codex subagent',
      { 'session-id': UUID, 'thread-id': 't2', 'x-codex-parent-thread-id': UUID },
      { agent: 'codex', id: UUID, thread: 't2', parent: null },
    ],
    [
      'opencode',
      { 'x-opencode-session': 'ses_01abc' },
      { agent: 'opencode', id: 'ses_01abc', thread: null, parent: null },
    ],
    ['a header not on the list', { 'x-session-id': UUID }, null],
    ['junk: too long', { 'x-claude-code-session-id': 'a'.repeat(129) }, null],
    ['junk: odd characters', { 'x-claude-code-session-id': 'abc def<script>' }, null],
    ['junk: empty', { 'x-opencode-session': '' }, null],
    ['junk: sent twice', { 'x-claude-code-session-id': [UUID, UUID] }, null],
    [
      'junk session, a good one of another agent',
      { 'x-claude-code-session-id': 'no way', 'session-id': UUID },
      { agent: 'codex', id: UUID, thread: null, parent: null },
    ],
    [
      'junk thread: the main conversation',
      { 'x-claude-code-session-id': UUID, 'x-claude-code-agent-id': 'x'.repeat(200) },
      { agent: 'claude-code', id: UUID, thread: null, parent: null },
    ],
  ]
  it.each(cases)('%s', (_name, headers, expected) => {
    expect(agentSession(headers)).toEqual(expected)
  })

  it('says why a header was ignored, in a debug line, and never throws', () => {
    const lines: { header: string; why: string }[] = []
    const session = agentSession({ 'x-claude-code-session-id': 'a b' }, (fields) => lines.push(fields))
    expect(session).toBeNull()
    expect(lines).toEqual([
      { header: 'x-claude-code-session-id', why: expect.stringContaining('characters') },
    ])
  })

  it('names a session by its agent and id', () => {
    expect(sessionName({ agent: 'codex', id: 'abc' })).toBe('codex:abc')
  })
})
