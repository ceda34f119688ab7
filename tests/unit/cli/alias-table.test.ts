import { describe, expect, it } from 'vitest'
import { aliasTable } from '../../../host/cli/commands/alias-command.ts'

describe('ripple models alias ls', () => {
  it('prints one line per alias under its header, a name with a control character escaped', () => {
    const table = aliasTable([
      { name: 'claude-*', targets: ['qwen3-tiny'], scope: 'peer', resolves_to: null },
      { name: 'coder\u001b', targets: ['a', 'b'], scope: 'mesh', resolves_to: 'a' },
    ] as Parameters<typeof aliasTable>[0])
    const lines = table.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/^ALIAS\s+MODELS\s+SCOPE\s+RUNS NOW$/)
    expect(lines[1]).toMatch(/^claude-\*\s+qwen3-tiny\s+peer\s+- \(no peer serves its models\)$/)
    expect(lines[2]).not.toContain('\u001b')
    expect(lines[2]).toMatch(/a, b\s+mesh\s+a$/)
  })
})
