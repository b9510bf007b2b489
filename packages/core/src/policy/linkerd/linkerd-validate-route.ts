/**
 * `HTTPRoute` (policy.linkerd.io v1beta1..v1beta3, gateway.networking.k8s.io v1) attached to a
 * Server. Only what meshless evaluates exactly is accepted; the rest is refused with its field.
 */
import { PolicyError } from '../../errors.js';
import { at, expectObject, index, onlyKeys, type Loc } from '../validate.js';
import type { LinkerdHttpRoute, PathMatch, RouteMatch } from './linkerd-model.js';
import { validateRef, type Meta } from './linkerd-validate.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
/** Hostname without wildcard (RFC 1123), as Gateway API validates it. */
const HOSTNAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function unsupported(message: string, loc: Loc): never {
  throw new PolicyError('ERR_POLICY_UNSUPPORTED', message, loc);
}

/**
 * meshless compares paths with Istio's matcher, where `*` and `{…}` are wildcards. A Gateway API
 * path holding them would be matched differently, so it is refused rather than approximated.
 */
function literal(value: string, loc: Loc, what: string): string {
  if (/[*{}]/.test(value))
    unsupported(`${what} containing "*", "{" or "}" cannot be matched literally by meshless`, loc);
  return value;
}

function validatePath(raw: unknown, loc: Loc): PathMatch {
  const obj = expectObject(raw ?? {}, loc);
  onlyKeys(obj, ['type', 'value'], loc);
  const type = obj['type'] ?? 'PathPrefix';
  if (type === 'RegularExpression')
    unsupported(
      'RegularExpression paths are refused: meshless has no regex path matcher (use Exact or PathPrefix)',
      at(loc, 'type'),
    );
  if (type !== 'Exact' && type !== 'PathPrefix')
    throw new PolicyError('ERR_POLICY_VALUE', 'type must be Exact or PathPrefix', at(loc, 'type'));
  const value = obj['value'] ?? '/';
  if (typeof value !== 'string' || !value.startsWith('/'))
    throw new PolicyError('ERR_POLICY_VALUE', 'path must start with "/"', at(loc, 'value'));
  literal(value, at(loc, 'value'), 'a path');
  if (/[?#]/.test(value) || value.includes('//') || /(^|\/)\.\.?(\/|$)/.test(value))
    throw new PolicyError(
      'ERR_POLICY_VALUE',
      'path must not hold "?", "#", "//" or dot segments',
      at(loc, 'value'),
    );
  // Gateway API: a PathPrefix ignores its trailing "/" and matches whole segments.
  return type === 'Exact' ? { type, value } : { type, value: value.replace(/\/+$/, '') };
}

function validateMatch(raw: unknown, loc: Loc): RouteMatch {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, ['path', 'headers', 'method'], loc, ['queryParams']);
  const out: RouteMatch = { path: validatePath(obj['path'], at(loc, 'path')), headers: [] };
  if (obj['method'] !== undefined) {
    if (typeof obj['method'] !== 'string' || !METHODS.includes(obj['method']))
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        `method must be one of ${METHODS.join(', ')}`,
        at(loc, 'method'),
      );
    out.method = obj['method'];
  }
  const headers = obj['headers'] ?? [];
  if (!Array.isArray(headers))
    throw new PolicyError('ERR_POLICY_FIELD', 'must be a list', at(loc, 'headers'));
  headers.forEach((h, i) => {
    const hloc = index(at(loc, 'headers'), i);
    const hobj = expectObject(h, hloc);
    onlyKeys(hobj, ['type', 'name', 'value'], hloc);
    if ((hobj['type'] ?? 'Exact') !== 'Exact')
      unsupported(
        'only Exact header matches are supported (meshless has no regex header matcher)',
        at(hloc, 'type'),
      );
    const name = hobj['name'];
    const value = hobj['value'];
    if (typeof name !== 'string' || !HEADER_NAME.test(name))
      throw new PolicyError('ERR_POLICY_VALUE', 'invalid header name', at(hloc, 'name'));
    if (typeof value !== 'string' || value === '')
      throw new PolicyError('ERR_POLICY_VALUE', 'a non-empty value is required', at(hloc, 'value'));
    literal(value, at(hloc, 'value'), 'a header value');
    // Gateway API: of several entries with one (case-insensitive) name, only the first counts.
    const lower = name.toLowerCase();
    if (!out.headers.some((x) => x.name === lower)) out.headers.push({ name: lower, value });
  });
  return out;
}

function validateRules(raw: unknown, loc: Loc): RouteMatch[] {
  const rules = raw ?? [{}];
  if (!Array.isArray(rules)) throw new PolicyError('ERR_POLICY_FIELD', 'rules must be a list', loc);
  return rules.flatMap((r, i) => {
    const rloc = index(loc, i);
    const rule = expectObject(r, rloc);
    // backendRefs and timeouts change routing and timing, never who is allowed.
    onlyKeys(rule, ['matches', 'backendRefs', 'timeouts', 'name'], rloc, ['filters']);
    const matches = rule['matches'] ?? [{ path: { type: 'PathPrefix', value: '/' } }];
    if (!Array.isArray(matches))
      throw new PolicyError('ERR_POLICY_FIELD', 'matches must be a list', at(rloc, 'matches'));
    if (matches.length === 0) return [validateMatch({}, at(rloc, 'matches'))];
    return matches.map((m, j) => validateMatch(m, index(at(rloc, 'matches'), j)));
  });
}

const SERVER_GROUPS = ['policy.linkerd.io'];

/** `HTTPRoute`: parentRefs to Servers (others, e.g. Services, configure outbound traffic and are ignored). */
export function validateHttpRoute(
  doc: Record<string, unknown>,
  meta: Meta,
  loc: Loc,
): LinkerdHttpRoute {
  const sloc = at(loc, 'spec');
  const spec = expectObject(doc['spec'], sloc);
  onlyKeys(spec, ['parentRefs', 'hostnames', 'rules'], sloc);
  const parents = spec['parentRefs'] ?? [];
  if (!Array.isArray(parents))
    throw new PolicyError('ERR_POLICY_FIELD', 'must be a list', at(sloc, 'parentRefs'));
  const servers: string[] = [];
  parents.forEach((p, i) => {
    const ploc = index(at(sloc, 'parentRefs'), i);
    const kind = expectObject(p, ploc)['kind'];
    if (kind !== 'Server') return; // outbound (Service) parent: not inbound policy
    const ref = validateRef(p, ploc, { Server: SERVER_GROUPS }, [
      'group',
      'kind',
      'name',
      'namespace',
      'port',
      'sectionName',
    ]);
    const obj = p as Record<string, unknown>;
    if (obj['port'] !== undefined || obj['sectionName'] !== undefined)
      unsupported('port and sectionName are not supported on a Server parentRef', ploc);
    if (ref.name === undefined)
      throw new PolicyError('ERR_POLICY_VALUE', 'name is required', at(ploc, 'name'));
    if (ref.namespace !== undefined && ref.namespace !== meta.namespace)
      unsupported('a Server parentRef must be in the route namespace', at(ploc, 'namespace'));
    servers.push(ref.name);
  });
  const hostnames = spec['hostnames'] ?? [];
  if (!Array.isArray(hostnames))
    throw new PolicyError('ERR_POLICY_FIELD', 'must be a list', at(sloc, 'hostnames'));
  return {
    kind: 'HTTPRoute',
    ...meta,
    servers,
    hostnames: hostnames.map((h, i) => {
      const hloc = index(at(sloc, 'hostnames'), i);
      if (typeof h === 'string' && h.startsWith('*.'))
        unsupported('wildcard hostnames are not supported (list the hosts)', hloc);
      if (typeof h !== 'string' || !HOSTNAME.test(h.toLowerCase()))
        throw new PolicyError('ERR_POLICY_VALUE', 'invalid hostname', hloc);
      return h.toLowerCase();
    }),
    matches: validateRules(spec['rules'], at(sloc, 'rules')),
  };
}
