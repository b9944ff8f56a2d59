// Preloaded (`node --require`) into the functions-framework processes of local runs and tests (local/function-host.ts):
// functions-framework listens on its port on every interface, with no option to choose; a local run's function and
// receiver must be reachable from this machine only. So a server told only a port listens on 127.0.0.1.
// Plain JavaScript: it is also preloaded into built archives, which are served without a TypeScript loader.
'use strict';
const net = require('node:net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const portOnly = typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]));
  if (portOnly && (args.length === 1 || typeof args[1] === 'function')) args.splice(1, 0, '127.0.0.1');
  return listen.apply(this, args);
};
