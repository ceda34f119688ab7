import { describe, expect, it } from 'vitest'
import {
  aliasesInForce,
  aliasFor,
  checkAlias,
  type ModelAlias,
  ModelAliasSchema,
  resolveModel,
} from '../../../host/requests/model-aliases.ts'

const model = (name: string, peers: string[], busy: string[] = []) => ({ name, peers, busy })
const coder: ModelAlias = { name: 'coder', targets: ['qwen3-coder-30b', 'qwen3-coder-7b'] }
const claude: ModelAlias = { name: 'claude-*', targets: ['qwen3-coder-30b'] }
const haiku: ModelAlias = { name: 'claude-haiku-*', targets: ['qwen3-1.7b'] }
const any: ModelAlias = { name: '*', targets: ['qwen3-1.7b'] }

describe('resolveModel', () => {
  const cases: {
    what: string
    asked: string
    aliases: ModelAlias[]
    models: ReturnType<typeof model>[]
    want: ReturnType<typeof resolveModel>
  }[] = [
    {
      what: 'the first target with a slot free',
      asked: 'coder',
      aliases: [coder],
      models: [model('qwen3-coder-30b', ['a']), model('qwen3-coder-7b', ['b'])],
      want: { model: 'qwen3-coder-30b', alias: 'coder' },
    },
    {
      what: 'the next target when every peer of the first is busy',
      asked: 'coder',
      aliases: [coder],
      models: [model('qwen3-coder-30b', ['a'], ['a']), model('qwen3-coder-7b', ['b'])],
      want: { model: 'qwen3-coder-7b', alias: 'coder' },
    },
    {
      what: 'the first served target when all are busy (the request waits for it)',
      asked: 'coder',
      aliases: [coder],
      models: [model('qwen3-coder-30b', ['a'], ['a']), model('qwen3-coder-7b', ['b'], ['b'])],
      want: { model: 'qwen3-coder-30b', alias: 'coder' },
    },
    {
      what: 'a target no peer serves is passed over',
      asked: 'coder',
      aliases: [coder],
      models: [model('qwen3-coder-7b', ['b'], ['b'])],
      want: { model: 'qwen3-coder-7b', alias: 'coder' },
    },
    {
      what: 'one free peer among busy ones is a free slot',
      asked: 'coder',
      aliases: [coder],
      models: [model('qwen3-coder-30b', ['a', 'c'], ['a']), model('qwen3-coder-7b', ['b'])],
      want: { model: 'qwen3-coder-30b', alias: 'coder' },
    },
    {
      what: 'a real model of the asked name wins over an alias of that name',
      asked: 'coder',
      aliases: [coder],
      models: [model('coder', ['a'], ['a']), model('qwen3-coder-30b', ['b'])],
      want: { model: 'coder', alias: null },
    },
    {
      what: 'a pattern answers the names an agent sends',
      asked: 'claude-sonnet-4-5-20250929',
      aliases: [claude, any],
      models: [model('qwen3-coder-30b', ['a'])],
      want: { model: 'qwen3-coder-30b', alias: 'claude-*' },
    },
    {
      what: 'the longest matching pattern wins',
      asked: 'claude-haiku-4-5',
      aliases: [claude, haiku, any],
      models: [model('qwen3-coder-30b', ['a']), model('qwen3-1.7b', ['a'])],
      want: { model: 'qwen3-1.7b', alias: 'claude-haiku-*' },
    },
    {
      what: 'an exact alias wins over a pattern that matches it',
      asked: 'claude-x',
      aliases: [claude, { name: 'claude-x', targets: ['qwen3-1.7b'] }],
      models: [model('qwen3-coder-30b', ['a']), model('qwen3-1.7b', ['a'])],
      want: { model: 'qwen3-1.7b', alias: 'claude-x' },
    },
    {
      what: '"*" alone answers any unknown name',
      asked: 'gpt-5-codex',
      aliases: [claude, any],
      models: [model('qwen3-1.7b', ['a'])],
      want: { model: 'qwen3-1.7b', alias: '*' },
    },
    {
      what: 'neither model nor alias: the name itself (its run says not found)',
      asked: 'llama-70b',
      aliases: [coder, claude],
      models: [model('qwen3-coder-30b', ['a'])],
      want: { model: 'llama-70b', alias: null },
    },
    {
      what: 'an alias whose targets no peer serves says which',
      asked: 'coder',
      aliases: [coder],
      models: [model('qwen3-1.7b', ['a']), model('qwen3-coder-7b', [])],
      want: {
        model: null,
        alias: 'coder',
        why: 'alias "coder" names qwen3-coder-30b, qwen3-coder-7b; no peer of the mesh serves any of them',
      },
    },
    {
      what: 'a pattern whose targets no peer serves names the asked name and the pattern',
      asked: 'claude-opus-4',
      aliases: [claude],
      models: [],
      want: {
        model: null,
        alias: 'claude-*',
        why: '"claude-opus-4" (alias "claude-*") names qwen3-coder-30b; no peer of the mesh serves any of them',
      },
    },
    {
      what: 'a target is never resolved again (no chain, no loop)',
      asked: 'a',
      aliases: [
        { name: 'a', targets: ['b'] },
        { name: 'b', targets: ['a'] },
      ],
      models: [],
      want: { model: null, alias: 'a', why: 'alias "a" names b; no peer of the mesh serves any of them' },
    },
  ]
  for (const c of cases)
    it(c.what, () => {
      expect(resolveModel(c.asked, c.aliases, c.models)).toEqual(c.want)
    })
})

describe('aliasFor', () => {
  it('a pattern matches its prefix only, and "*" inside a name is no glob', () => {
    expect(aliasFor('gpt-4o', [{ name: 'gpt-*', targets: ['m'] }])?.name).toBe('gpt-*')
    expect(aliasFor('xgpt-4o', [{ name: 'gpt-*', targets: ['m'] }])).toBeNull()
    expect(aliasFor('gpt-*', [{ name: 'gpt-*', targets: ['m'] }])?.name).toBe('gpt-*')
  })
})

describe('aliasesInForce', () => {
  it("this peer's alias overrides the mesh's of the same name", () => {
    const mesh = [coder, claude]
    const peer = [{ name: 'coder', targets: ['qwen3-1.7b'] }]
    expect(aliasesInForce(mesh, peer)).toEqual([
      { ...claude, scope: 'mesh' },
      { name: 'coder', targets: ['qwen3-1.7b'], scope: 'peer' },
    ])
  })
})

describe('checkAlias', () => {
  const cases: { what: string; alias: ModelAlias; others: ModelAlias[]; want: string | null }[] = [
    { what: 'models only: accepted', alias: coder, others: [claude], want: null },
    { what: 'replacing itself: accepted', alias: coder, others: [coder], want: null },
    {
      what: 'naming an alias',
      alias: { name: 'fast', targets: ['coder'] },
      others: [coder],
      want: '"coder" is an alias (of qwen3-coder-30b, qwen3-coder-7b); an alias names models only',
    },
    {
      what: 'being some alias target (it would make a chain)',
      alias: { name: 'qwen3-coder-7b', targets: ['qwen3-1.7b'] },
      others: [coder],
      want: '"qwen3-coder-7b" is a target of alias "coder"; an alias cannot be a target',
    },
  ]
  for (const c of cases)
    it(c.what, () => {
      expect(checkAlias(c.alias, c.others)).toBe(c.want)
    })
})

describe('ModelAliasSchema', () => {
  const bad: [string, unknown][] = [
    ['no targets', { name: 'coder', targets: [] }],
    ['a glob inside', { name: 'cl*de', targets: ['m'] }],
    ['two stars', { name: 'claude-**', targets: ['m'] }],
    ['a newline', { name: 'my\nmodel', targets: ['m'] }],
    ['itself as a target', { name: 'coder', targets: ['qwen3-8b', 'coder'] }],
    ['a pattern as a target', { name: 'coder', targets: ['qwen*'] }],
    ['a target twice', { name: 'coder', targets: ['m', 'm'] }],
    ['too many targets', { name: 'coder', targets: ['1', '2', '3', '4', '5', '6', '7', '8', '9'] }],
    ['an empty name', { name: '', targets: ['m'] }],
    ['a name too long', { name: 'a'.repeat(129), targets: ['m'] }],
    ['an extra field', { name: 'coder', targets: ['m'], weight: 1 }],
  ]
  for (const [what, input] of bad)
    it(`refuses ${what}`, () => {
      expect(ModelAliasSchema.safeParse(input).success).toBe(false)
    })
  it('takes names, patterns and "*"', () => {
    for (const name of ['coder', 'claude-*', 'gpt-5.1-codex', 'qwen3:8b', '*'])
      expect(ModelAliasSchema.safeParse({ name, targets: ['qwen3-8b'] }).success).toBe(true)
  })
})
