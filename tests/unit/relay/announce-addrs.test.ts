import { describe, expect, it } from 'vitest'
import { relayAnnounceAddrs } from '../../../host/relay/announce-addrs.ts'

describe('what a relay announces without --announce', () => {
  const cases: { name: string; listen: string[]; ips: string[]; want: string[] }[] = [
    {
      name: 'a fixed address as it is',
      listen: ['/ip4/11.0.0.1/tcp/4001'],
      ips: ['10.0.0.5'],
      want: ['/ip4/11.0.0.1/tcp/4001'],
    },
    {
      name: 'a wildcard as every interface address, loopback left out',
      listen: ['/ip4/0.0.0.0/tcp/4001'],
      ips: ['127.0.0.1', '203.0.113.7', '10.0.0.5'],
      want: ['/ip4/203.0.113.7/tcp/4001', '/ip4/10.0.0.5/tcp/4001'],
    },
    {
      name: 'nothing for port 0 (not known before start)',
      listen: ['/ip4/0.0.0.0/tcp/0'],
      ips: ['10.0.0.5'],
      want: [],
    },
    { name: 'nothing for other transports', listen: ['/ip6/::/tcp/4001'], ips: ['10.0.0.5'], want: [] },
  ]
  for (const c of cases) it(c.name, () => expect(relayAnnounceAddrs(c.listen, c.ips)).toEqual(c.want))
})
