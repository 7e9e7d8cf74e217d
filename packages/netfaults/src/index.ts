export {
  type BackendName,
  type BackendRequest,
  type ContainerNetworking,
  type HostPort,
  resolveBackendRequest,
} from './backend.ts';
export { DEFAULT_TOXIPROXY_IMAGE } from './containers.ts';
export {
  type BackendAvailability,
  createNetworkEnvironment,
  detectBackends,
  type NetworkEnvironmentOptions,
  toxiproxyImage,
} from './create.ts';
export { type ContainerEngine, detectContainerEngine, type EngineProbe, type NoContainerEngine } from './engine.ts';
export { NetworkEnvironment } from './environment.ts';
export { BackendUnavailableError } from './errors.ts';
export type {
  PartitionHandle,
  PartitionMode,
  PartitionOptions,
  ToxicHandle,
  ToxicReport,
  ToxicSpec,
  ToxicStream,
  ToxicType,
} from './faults/handles.ts';
export {
  type BuildImageOptions,
  type BuiltImage,
  buildEmbeddedServerImage,
  EMBEDDED_IMAGE_TAG,
  embeddedServerDockerfile,
} from './image.ts';
export { type ProxyBytes, parseProxyMetrics } from './metrics.ts';
export type { NetProxy } from './proxies.ts';
export type { NetworkScope } from './scope.ts';
export {
  networkEnvironmentOrSkip,
  type SharedNetworkEnvironment,
  type SkipContext,
  sharedNetworkEnvironment,
} from './skip.ts';
