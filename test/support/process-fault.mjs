// Preloaded into `callhook start` by test/integration/failure-containment.test.ts (NODE_OPTIONS=--import): a fault
// outside every call and session, on SIGUSR2. TEST_PROCESS_FAULT=rejection: a promise rejected with nobody to handle
// it; TEST_PROCESS_FAULT=exception: a throw from an event callback (this signal handler), i.e. an uncaught exception.
process.on('SIGUSR2', () => {
  const fault = new Error('injected process fault');
  if (process.env.TEST_PROCESS_FAULT === 'exception') throw fault;
  void Promise.reject(fault);
});
