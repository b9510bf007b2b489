/**
 * `@meshless/conformance` (private): suites every adapter must pass, each run by the adapter's
 * own tests with a factory that starts its server. Source-only: never built or published.
 *
 * @packageDocumentation
 */
export { describeAuthorizationE2eSuite } from './authz-e2e-suite.js';
export { describeRequestAuthenticationSuite } from './request-authentication-suite.js';
export { describeSvidRuleSuite } from './svid-rule-suite.js';
export type { AdapterServer, AdapterServerFactory, ConformanceTls } from './svid-rule-suite.js';
export { describeTokenSuite } from './token-suite.js';
export {
  describeTelemetrySuite,
  type TelemetrySdk,
  type TelemetrySuiteOptions,
} from './telemetry-suite.js';
