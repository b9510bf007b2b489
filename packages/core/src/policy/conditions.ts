/** `when` condition keys (Istio "Authorization Policy Conditions"), parsed once at load. */

export type ConditionKey =
  | { kind: 'header'; name: string }
  | { kind: 'claim'; path: string[] }
  | {
      kind:
        | 'source.ip'
        | 'remote.ip'
        | 'source.namespace'
        | 'source.principal'
        | 'request.auth.principal'
        | 'request.auth.audiences'
        | 'request.auth.presenter'
        | 'destination.ip'
        | 'destination.port'
        | 'connection.sni';
    };

const PLAIN_KEYS = new Set([
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'destination.ip',
  'destination.port',
  'connection.sni',
]);

const HEADER_PREFIX = 'request.headers';
const CLAIMS_PREFIX = 'request.auth.claims';

/** `[a][b]…` → `['a', 'b']`; `undefined` unless every name is non-empty and bracket-free. */
function bracketNames(s: string): string[] | undefined {
  const names: string[] = [];
  const re = /\[([^[\]]+)\]/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < s.length && (m = re.exec(s)) !== null) names.push(m[1] as string);
  if (names.length === 0 || re.lastIndex !== s.length) return undefined;
  return names;
}

/**
 * Parses a `when` key, or explains why it is refused (unknown keys, `destination.labels` and the
 * like, `experimental.envoy.filters.*`: Istio's `model.New` fails on them).
 */
export function parseConditionKey(key: string): ConditionKey | string {
  if (PLAIN_KEYS.has(key)) return { kind: key } as ConditionKey;
  if (key.startsWith(`${HEADER_PREFIX}[`)) {
    const names = bracketNames(key.slice(HEADER_PREFIX.length));
    if (!names || names.length !== 1) return 'expected request.headers[<name>]';
    return { kind: 'header', name: (names[0] as string).toLowerCase() };
  }
  if (key.startsWith(`${CLAIMS_PREFIX}[`)) {
    const names = bracketNames(key.slice(CLAIMS_PREFIX.length));
    if (!names) return 'expected request.auth.claims[<name>] or request.auth.claims[<a>][<b>]…';
    return { kind: 'claim', path: names };
  }
  if (key.startsWith('experimental.envoy.filters.'))
    return `key "${key}" reads Envoy filter metadata, which meshless does not have`;
  return `unknown condition key "${key}"`;
}
