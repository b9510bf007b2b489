import { PolicyError } from '../errors.js';
import type { JwtLocation, JwtRule } from './model.js';
import { at, expectObject, index, onlyKeys, stringList, type Loc } from './validate.js';

const JWT_RULE_FIELDS = [
  'issuer',
  'audiences',
  'jwksUri',
  'jwks',
  'fromHeaders',
  'fromParams',
  'fromCookies',
  'outputPayloadToHeader',
  'outputClaimToHeaders',
  'forwardOriginalToken',
  'timeout',
];
/** RFC 7230 token characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Istio durations as used for `timeout`: a number with a unit. */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function headerName(v: unknown, loc: Loc): string {
  if (typeof v !== 'string' || !HEADER_NAME.test(v))
    throw new PolicyError('ERR_POLICY_VALUE', 'expected a header name', loc);
  return v.toLowerCase();
}

function validateJwks(v: unknown, loc: Loc): { keys: object[] } {
  if (typeof v !== 'string')
    throw new PolicyError('ERR_POLICY_VALUE', 'jwks must be a JSON string', loc);
  let doc: unknown;
  try {
    doc = JSON.parse(v);
  } catch {
    throw new PolicyError('ERR_POLICY_VALUE', 'jwks is not valid JSON', loc);
  }
  const set = expectObject(doc, loc);
  if (!Array.isArray(set['keys']) || set['keys'].length === 0)
    throw new PolicyError('ERR_POLICY_VALUE', 'jwks must have a non-empty "keys" list', loc);
  return { keys: set['keys'].map((k, i) => expectObject(k, index(at(loc, 'keys'), i))) };
}

function validateLocations(r: Record<string, unknown>, l: Loc): JwtLocation[] | undefined {
  const locations: JwtLocation[] = [];
  if (r['fromHeaders'] !== undefined) {
    if (!Array.isArray(r['fromHeaders']) || r['fromHeaders'].length === 0)
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'fromHeaders must be a non-empty list',
        at(l, 'fromHeaders'),
      );
    r['fromHeaders'].forEach((h, i) => {
      const hl = index(at(l, 'fromHeaders'), i);
      const o = expectObject(h, hl);
      onlyKeys(o, ['name', 'prefix'], hl);
      const prefix = o['prefix'] ?? '';
      if (typeof prefix !== 'string')
        throw new PolicyError('ERR_POLICY_VALUE', 'prefix must be a string', at(hl, 'prefix'));
      locations.push({ header: headerName(o['name'], at(hl, 'name')), prefix });
    });
  }
  if (r['fromParams'] !== undefined)
    for (const param of stringList(r['fromParams'], at(l, 'fromParams'))) locations.push({ param });
  if (r['fromCookies'] !== undefined)
    for (const cookie of stringList(r['fromCookies'], at(l, 'fromCookies')))
      locations.push({ cookie });
  return locations.length > 0 ? locations : undefined;
}

/**
 * Validates one Istio `JWTRule`: `issuer`, `audiences`, `jwksUri` xor `jwks`, token locations
 * (`fromHeaders` name + literal prefix, `fromParams`, `fromCookies`: explicit locations replace the
 * defaults), `outputPayloadToHeader`, `outputClaimToHeaders`, `forwardOriginalToken`, `timeout`.
 */
export function validateJwtRule(raw: unknown, l: Loc): JwtRule {
  const r = expectObject(raw, l);
  onlyKeys(r, JWT_RULE_FIELDS, l);
  if (typeof r['issuer'] !== 'string' || r['issuer'] === '')
    throw new PolicyError('ERR_POLICY_VALUE', 'issuer is required', at(l, 'issuer'));
  const rule: JwtRule = { issuer: r['issuer'] };
  // An empty list means `aud` is not checked, as when the field is absent.
  if (
    r['audiences'] !== undefined &&
    !(Array.isArray(r['audiences']) && r['audiences'].length === 0)
  )
    rule.audiences = stringList(r['audiences'], at(l, 'audiences'));
  if (r['jwksUri'] !== undefined && r['jwks'] !== undefined)
    throw new PolicyError('ERR_POLICY_VALUE', 'jwksUri and jwks cannot both be set', at(l, 'jwks'));
  if (r['jwksUri'] !== undefined) {
    const uri = r['jwksUri'];
    if (typeof uri !== 'string' || !URL.canParse(uri) || !/^https?:$/.test(new URL(uri).protocol))
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'jwksUri must be an http or https URL',
        at(l, 'jwksUri'),
      );
    rule.jwksUri = uri;
  }
  if (r['jwks'] !== undefined) rule.jwks = validateJwks(r['jwks'], at(l, 'jwks'));
  const locations = validateLocations(r, l);
  if (locations) rule.locations = locations;
  if (r['outputPayloadToHeader'] !== undefined)
    rule.outputPayloadToHeader = headerName(
      r['outputPayloadToHeader'],
      at(l, 'outputPayloadToHeader'),
    );
  if (r['outputClaimToHeaders'] !== undefined) {
    const list = r['outputClaimToHeaders'];
    if (!Array.isArray(list) || list.length === 0)
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'outputClaimToHeaders must be a non-empty list',
        at(l, 'outputClaimToHeaders'),
      );
    rule.outputClaimToHeaders = list.map((item, i) => {
      const il = index(at(l, 'outputClaimToHeaders'), i);
      const o = expectObject(item, il);
      onlyKeys(o, ['header', 'claim'], il);
      if (typeof o['claim'] !== 'string' || o['claim'] === '')
        throw new PolicyError('ERR_POLICY_VALUE', 'claim is required', at(il, 'claim'));
      return { header: headerName(o['header'], at(il, 'header')), claim: o['claim'] };
    });
  }
  if (r['forwardOriginalToken'] !== undefined) {
    if (typeof r['forwardOriginalToken'] !== 'boolean')
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'forwardOriginalToken must be a boolean',
        at(l, 'forwardOriginalToken'),
      );
    rule.forwardOriginalToken = r['forwardOriginalToken'];
  }
  if (r['timeout'] !== undefined) {
    const m = typeof r['timeout'] === 'string' ? DURATION.exec(r['timeout']) : null;
    if (!m)
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'timeout must be a duration like "5s"',
        at(l, 'timeout'),
      );
    rule.timeoutMs = Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return rule;
}
