// rocker networks: CNI bridge networks, their management, the OCI hooks that
// attach containers, and the config.json pieces the bundle writer adds.
export { networkConfigFor, applyNetwork, type NetworkOptions, type NetworkConfig, type SpecLike, ANNOTATION } from './bundle-config.js';
export { createNetwork, listNetworks, inspectNetwork, removeNetwork, ensureNetwork, DEFAULT_NETWORK } from './store.js';
export { attach, detach } from './attach.js';
export { networkDirs, type NetworkDirs } from './dirs.js';
export { NetworkError, PluginError } from './errors.js';
