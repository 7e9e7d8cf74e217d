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
export {
  type NetProxy,
  NetworkEnvironment,
  type NetworkScope,
  type PartitionHandle,
  type PartitionMode,
  type PartitionOptions,
  type ToxicHandle,
  type ToxicReport,
  type ToxicSpec,
  type ToxicStream,
  type ToxicType,
} from './environment.ts';
export { BackendUnavailableError } from './errors.ts';
export {
  type BuildImageOptions,
  type BuiltImage,
  buildEmbeddedServerImage,
  EMBEDDED_IMAGE_TAG,
  embeddedServerDockerfile,
} from './image.ts';
export { type ProxyBytes, parseProxyMetrics } from './metrics.ts';
export {
  networkEnvironmentOrSkip,
  type SharedNetworkEnvironment,
  type SkipContext,
  sharedNetworkEnvironment,
} from './skip.ts';
