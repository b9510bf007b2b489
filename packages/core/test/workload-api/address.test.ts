import { describe, expect, it } from 'vitest';
import { MeshlessError } from '../../src/errors.js';
import {
  parseWorkloadApiAddress,
  resolveWorkloadApiAddress,
  WorkloadApiError,
} from '../../src/workload-api/index.js';

describe('parseWorkloadApiAddress: valid forms', () => {
  it.each([
    ['unix:///run/spire/agent.sock', { kind: 'unix', path: '/run/spire/agent.sock' }],
    ['unix:/run/spire/agent.sock', { kind: 'unix', path: '/run/spire/agent.sock' }],
    ['unix:///tmp/a%20b.sock', { kind: 'unix', path: '/tmp/a b.sock' }],
    ['unix:////tmp/x.sock', { kind: 'unix', path: '/tmp/x.sock' }],
    ['tcp://127.0.0.1:8000', { kind: 'tcp', host: '127.0.0.1', port: 8000 }],
    ['TCP://10.0.0.1:1', { kind: 'tcp', host: '10.0.0.1', port: 1 }],
    ['tcp://[::1]:8081', { kind: 'tcp', host: '::1', port: 8081 }],
  ])('%s', (input, expected) => {
    expect(parseWorkloadApiAddress(input)).toMatchObject(expected);
  });

  it('builds grpc-js targets that need no name resolution', () => {
    expect(parseWorkloadApiAddress('unix:///run/agent.sock').target).toBe('unix:/run/agent.sock');
    expect(parseWorkloadApiAddress('unix:////run/agent.sock').target).toBe('unix:/run/agent.sock');
    expect(parseWorkloadApiAddress('tcp://127.0.0.1:8000').target).toBe('ipv4:127.0.0.1:8000');
    expect(parseWorkloadApiAddress('tcp://[::1]:8000').target).toBe('ipv6:[::1]:8000');
  });
});

describe('parseWorkloadApiAddress: refused forms', () => {
  it.each([
    ['', /empty/],
    [' unix:///a.sock', /whitespace/],
    ['/run/spire/agent.sock', /not a valid URI/],
    ['http://127.0.0.1:80', /"tcp" or "unix" scheme/],
    ['unix:relative.sock', /absolute path/],
    ['unix:', /absolute path/],
    ['unix:///', /not a directory/],
    ['unix:///run/spire/', /not a directory/],
    ['unix://host/run/agent.sock', /authority/],
    ['unix:///run/agent.sock?x=1', /query/],
    ['unix:///run/agent.sock?', /query/],
    ['unix:///run/agent.sock#frag', /fragment/],
    ['unix:///run/%E0%A4%A.sock', /percent-encoding/],
    ['unix:///run/a%00.sock', /NUL/],
    ['tcp://127.0.0.1:8000/foo', /path/],
    ['tcp://127.0.0.1:8000/', /path/],
    ['tcp://127.0.0.1:8000?x=1', /query/],
    ['tcp://127.0.0.1:8000#f', /fragment/],
    ['tcp://user:pw@127.0.0.1:8000', /user info/],
    ['tcp://@127.0.0.1:8000', /user info/],
    ['tcp://localhost:8000', /IP:port/],
    ['tcp://127.1:8000', /IP:port/],
    ['tcp://127.0.0.1', /include a port/],
    ['tcp://127.0.0.1:0', /between 1 and 65535/],
    ['tcp://127.0.0.1:99999', /not a valid URI/],
    ['tcp:127.0.0.1:8000', /include a host/],
  ])('%j', (input, message) => {
    let error: unknown;
    try {
      parseWorkloadApiAddress(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkloadApiError);
    expect(error).toBeInstanceOf(MeshlessError);
    expect(error).toMatchObject({ code: 'ERR_WORKLOAD_API_ADDRESS_INVALID' });
    expect((error as Error).message).toMatch(message);
  });
});

describe('resolveWorkloadApiAddress', () => {
  it('prefers the explicit address over SPIFFE_ENDPOINT_SOCKET', () => {
    const env = { SPIFFE_ENDPOINT_SOCKET: 'unix:///from/env.sock' };
    expect(resolveWorkloadApiAddress('unix:///explicit.sock', env)).toMatchObject({
      path: '/explicit.sock',
    });
    expect(resolveWorkloadApiAddress(undefined, env)).toMatchObject({ path: '/from/env.sock' });
  });

  it('refuses a missing or empty SPIFFE_ENDPOINT_SOCKET', () => {
    for (const env of [{}, { SPIFFE_ENDPOINT_SOCKET: '' }]) {
      expect(() => resolveWorkloadApiAddress(undefined, env)).toThrow(
        expect.objectContaining({ code: 'ERR_WORKLOAD_API_ADDRESS_MISSING' }),
      );
    }
  });

  it('validates the environment value too', () => {
    expect(() =>
      resolveWorkloadApiAddress(undefined, { SPIFFE_ENDPOINT_SOCKET: 'tcp://localhost:1' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_WORKLOAD_API_ADDRESS_INVALID' }));
  });
});
