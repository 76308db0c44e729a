export * from './types-node/sdk/src/node/index.js';
