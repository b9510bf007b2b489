/**
 * A fake SPIFFE Workload API agent for tests: real gRPC over a Unix socket.
 *
 * @packageDocumentation
 */
export { startWorkloadAgent } from './agent.js';
export type {
  StartWorkloadAgentOptions,
  WorkloadAgent,
  WorkloadAgentBundle,
  WorkloadAgentMethod,
  WorkloadAgentRequest,
  WorkloadAgentStatus,
  WorkloadAgentSvid,
  WorkloadAgentX509Context,
} from './types.js';
