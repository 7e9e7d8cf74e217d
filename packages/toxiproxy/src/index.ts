export type { ProxyConfig } from './collection.ts';
export { readConfigFile } from './config.ts';
export { type StartOptions, start, TOXIPROXY_VERSION, ToxiproxyServer } from './server.ts';
export type { AttributeKind, Attributes, Chunk, ToxicStub, ToxicType } from './toxics/toxic.ts';
