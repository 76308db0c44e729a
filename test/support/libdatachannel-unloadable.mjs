// Loaded with `node --import`: `node-datachannel` resolves but fails as it loads, as on a platform whose prebuilt
// native library cannot be loaded, so media-relay.test.ts can check what a leg does then.
import { register } from 'node:module';

register(
  'data:text/javascript,export async function load(url, context, next) {' +
    ' if (url.includes("/node-datachannel/dist/")) throw new Error("native library failed to load (test)");' +
    ' return next(url, context); }',
);
