export * from './types/sdk/src/index.js';
