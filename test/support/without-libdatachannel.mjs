// Loaded with `node --import`: makes `node-datachannel` unresolvable, as on a platform without its prebuilt native
// module, so the server-process test can check what callhook does then.
import { register } from 'node:module';

register(
  'data:text/javascript,export async function resolve(specifier, context, next) {' +
    ' if (specifier === "node-datachannel") throw new Error("Cannot find package node-datachannel (test)");' +
    ' return next(specifier, context); }',
);
