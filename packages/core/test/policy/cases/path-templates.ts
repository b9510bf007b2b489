/**
 * Istio path templates (`{*}`, `{**}`) in `paths` / `notPaths`.
 *
 * Each case: [name, ref, rule, attributes, expected]. `ref` is the citation label, see ./types.ts.
 */
import { op, type FieldCase } from './types.js';

export const PATH_TEMPLATE_CASES: FieldCase[] = [
  // [PROTO] paths: "{*}" matches a single path segment.
  ['{*} one segment', 'PROTO', op({ paths: ['/foo/{*}'] }), { path: '/foo/bar' }, true],
  // [ENVOY] {*} = [pchar]+, never across "/".
  ['{*} not two segments', 'ENVOY', op({ paths: ['/foo/{*}'] }), { path: '/foo/bar/baz' }, false],
  // [ENVOY] {*} is non-empty.
  ['{*} not empty', 'ENVOY', op({ paths: ['/foo/{*}'] }), { path: '/foo/' }, false],
  // [PROTO] {*} in the middle.
  ['{*} in the middle', 'PROTO', op({ paths: ['/foo/{*}/bar'] }), { path: '/foo/x/bar' }, true],
  // [ENVOY] literal after {*} must match exactly.
  [
    '{*} then literal mismatch',
    'ENVOY',
    op({ paths: ['/foo/{*}/bar'] }),
    { path: '/foo/x/baz' },
    false,
  ],
  // [ENVOY] `=` is not in Envoy's pchar set for {*}.
  ['{*} excludes =', 'ENVOY', op({ paths: ['/foo/{*}'] }), { path: '/foo/a=b' }, false],
  // [ENVOY] `%`, `:`, `@` are pchar.
  ['{*} pchar', 'ENVOY', op({ paths: ['/foo/{*}'] }), { path: '/foo/a%20b:c@d' }, true],
  // [PROTO] {**} matches any number of segments.
  ['{**} many segments', 'PROTO', op({ paths: ['/foo/{**}'] }), { path: '/foo/a/b/c' }, true],
  // [ENVOY] {**} = [pchar/]*: zero characters after the slash.
  ['{**} empty', 'ENVOY', op({ paths: ['/foo/{**}'] }), { path: '/foo/' }, true],
  // [ENVOY] the slash before {**} is literal.
  ['{**} needs the slash', 'ENVOY', op({ paths: ['/foo/{**}'] }), { path: '/foo' }, false],
  // [ENVOY] anchored: the prefix must match.
  ['{**} anchored', 'ENVOY', op({ paths: ['/foo/{**}'] }), { path: '/bar/foo/x' }, false],
  // [ENVOY] literals are escaped (a dot is not a wildcard).
  ['literal dot', 'ENVOY', op({ paths: ['/a.b/{*}'] }), { path: '/aXb/c' }, false],
  // [PROTO] {*} then {**}.
  ['{*} then {**}', 'PROTO', op({ paths: ['/{*}/x/{**}'] }), { path: '/t/x/y/z' }, true],
  // [PROTO] notPaths with a template.
  [
    'notPaths template',
    'PROTO',
    op({ notPaths: ['/admin/{**}'] }),
    { path: '/admin/users' },
    false,
  ],
  // [PROTO] notPaths others.
  [
    'notPaths template others',
    'PROTO',
    op({ notPaths: ['/admin/{**}'] }),
    { path: '/public' },
    true,
  ],
  // [VALID] a template path is matched as a regex, non-template values as before.
  ['mixed list', 'VALID', op({ paths: ['/exact', '/t/{*}'] }), { path: '/exact' }, true],
];
