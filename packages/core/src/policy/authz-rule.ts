/** Validation of one AuthorizationPolicy rule: `from.source`, `to.operation` and `when`, with Istio's rules. */
import { PolicyError } from '../errors.js';
import { parseConditionKey } from './conditions.js';
import { parseIpBlock } from './ip-match.js';
import { pathTemplateProblem } from './string-match.js';
import { at, expectObject, index, onlyKeys, stringList, type Loc } from './validate.js';
import type { ConditionSpec, OperationSpec, RuleSpec, SourceSpec } from './model.js';

const SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
  'serviceAccounts',
  'notServiceAccounts',
] as const;
const IP_FIELDS = ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const;
const OPERATION_FIELDS = [
  'hosts',
  'notHosts',
  'ports',
  'notPorts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
] as const;

function validateSource(raw: unknown, loc: Loc): SourceSpec {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, SOURCE_FIELDS, loc);
  if (Object.keys(obj).length === 0) throw new PolicyError('ERR_POLICY_VALUE', 'empty source', loc);
  const out: SourceSpec = {};
  for (const f of SOURCE_FIELDS) if (obj[f] !== undefined) out[f] = stringList(obj[f], at(loc, f));
  for (const f of IP_FIELDS) ipList(out[f], at(loc, f));
  for (const f of ['serviceAccounts', 'notServiceAccounts'] as const) {
    if (!out[f]) continue;
    // Istio validation: serviceAccounts cannot be combined with principals or namespaces.
    for (const other of ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'] as const)
      if (out[other])
        throw new PolicyError(
          'ERR_POLICY_VALUE',
          `${f} cannot be set together with ${other}`,
          at(loc, f),
        );
    out[f].forEach((v, i) => {
      if (v.includes('*'))
        throw new PolicyError(
          'ERR_POLICY_VALUE',
          'service accounts cannot contain "*"',
          at(loc, `${f}[${i}]`),
        );
      if (!/^[^/]+(\/[^/]+)?$/.test(v))
        throw new PolicyError(
          'ERR_POLICY_VALUE',
          'expected <namespace>/<serviceaccount> or <serviceaccount>',
          at(loc, `${f}[${i}]`),
        );
    });
  }
  return out;
}

function ipList(values: string[] | undefined, loc: Loc): void {
  values?.forEach((v, i) => {
    if (!parseIpBlock(v))
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'expected an IP address or CIDR block',
        index(loc, i),
      );
  });
}

function validateCondition(raw: unknown, loc: Loc): ConditionSpec {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, ['key', 'values', 'notValues'], loc);
  if (typeof obj['key'] !== 'string' || obj['key'] === '')
    throw new PolicyError('ERR_POLICY_VALUE', 'key is required', at(loc, 'key'));
  const key = parseConditionKey(obj['key']);
  if (typeof key === 'string') throw new PolicyError('ERR_POLICY_VALUE', key, at(loc, 'key'));
  if (obj['values'] === undefined && obj['notValues'] === undefined)
    throw new PolicyError('ERR_POLICY_VALUE', 'values or notValues is required', loc);
  const out: ConditionSpec = { key: obj['key'] };
  for (const f of ['values', 'notValues'] as const) {
    if (obj[f] === undefined) continue;
    const list = stringList(obj[f], at(loc, f));
    out[f] = list;
    if (key.kind === 'source.ip' || key.kind === 'remote.ip' || key.kind === 'destination.ip')
      ipList(list, at(loc, f));
    if (key.kind === 'destination.port') portList(list, loc, f);
  }
  return out;
}

function portList(values: string[] | undefined, loc: Loc, f: string): void {
  values?.forEach((p, i) => {
    if (!/^[0-9]{1,5}$/.test(p) || Number(p) > 65535)
      throw new PolicyError(
        'ERR_POLICY_VALUE',
        'port must be a number 0-65535',
        at(loc, `${f}[${i}]`),
      );
  });
}

function validateOperation(raw: unknown, loc: Loc): OperationSpec {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, OPERATION_FIELDS, loc);
  if (Object.keys(obj).length === 0)
    throw new PolicyError('ERR_POLICY_VALUE', 'empty operation', loc);
  const out: OperationSpec = {};
  for (const f of OPERATION_FIELDS)
    if (obj[f] !== undefined) out[f] = stringList(obj[f], at(loc, f));
  for (const f of ['ports', 'notPorts'] as const) portList(out[f], loc, f);
  for (const f of ['paths', 'notPaths'] as const) {
    out[f]?.forEach((p, i) => {
      const problem = pathTemplateProblem(p);
      if (problem) throw new PolicyError('ERR_POLICY_VALUE', problem, at(loc, `${f}[${i}]`));
    });
  }
  return out;
}

export function validateRule(raw: unknown, loc: Loc): RuleSpec {
  const obj = expectObject(raw, loc);
  onlyKeys(obj, ['from', 'to', 'when'], loc);
  const rule: RuleSpec = {};
  if (obj['when'] !== undefined) {
    // `when: []` is no condition, as in Istio (an empty list ANDs to true).
    if (!Array.isArray(obj['when']))
      throw new PolicyError('ERR_POLICY_FIELD', '"when" must be a list', at(loc, 'when'));
    rule.when = obj['when'].map((c, i) => validateCondition(c, at(loc, `when[${i}]`)));
  }
  if (obj['from'] !== undefined) {
    if (!Array.isArray(obj['from']) || obj['from'].length === 0)
      throw new PolicyError('ERR_POLICY_VALUE', '"from" must be a non-empty list', at(loc, 'from'));
    rule.from = obj['from'].map((f, i) => {
      const l = at(loc, `from[${i}]`);
      const o = expectObject(f, l);
      onlyKeys(o, ['source'], l);
      return { source: validateSource(o['source'], at(l, 'source')) };
    });
  }
  if (obj['to'] !== undefined) {
    if (!Array.isArray(obj['to']) || obj['to'].length === 0)
      throw new PolicyError('ERR_POLICY_VALUE', '"to" must be a non-empty list', at(loc, 'to'));
    rule.to = obj['to'].map((t, i) => {
      const l = at(loc, `to[${i}]`);
      const o = expectObject(t, l);
      onlyKeys(o, ['operation'], l);
      return { operation: validateOperation(o['operation'], at(l, 'operation')) };
    });
  }
  return rule;
}
