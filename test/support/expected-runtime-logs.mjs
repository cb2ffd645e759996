// vitest globalSetup of the workerd project. workerd logs, besides real errors, lines that tests
// cause on purpose and already assert on; the plugin prints the runtime's logs as they come, one
// message per write. Only the messages below, each a deliberate outcome, are dropped: anything
// else the runtime logs (an InternalError, an exception in an alarm, a crash nobody planned) still
// prints.
const expected = [
  // An RPC method that rejects with a ServiceError: its caller receives and checks it, and workerd
  // also logs every rejected RPC call. InternalError, the unexpected one, is not dropped.
  /^uncaught exception; source = Uncaught \(in promise\); stack = ServiceError: \[(?!InternalError\])[A-Za-z]+\] /,
  // test/api/rpc.test.ts and test/reliability/bad-input.test.ts call RPC methods that do not exist.
  /^uncaught exception; source = Uncaught \(in promise\); stack = TypeError: The RPC receiver does not implement "[^"]+"\.\n/,
  // test/support/sink-worker throws "subscriber failed" on purpose, as a failing worker subscriber
  // (no code under src/ throws that message); the stack is sometimes left out.
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: subscriber failed(\n\s+at Object\.fetch \(\S+\/test\/support\/sink-worker\/index\.js:\d+:\d+\))?\n?$/,
  /^uncaught exception; exception = workerd\/jsg\/value\.h:\d+: failed: jsg\.Error: subscriber failed\n/,
  // test/support/queue-consumer-worker throws "the consumer failed on purpose" for a body "throw",
  // as a failing consumer Worker (no code under src/ throws that message).
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: the consumer failed on purpose(\n\s+at QueueConsumerWorker\.consume \(\S+\/test\/support\/queue-consumer-worker\/index\.js:\d+:\d+\))?\n?$/,
  // test/consumer/delivery.test.ts evicts a queue's object while its consumer Worker's call hangs:
  // the runtime cancels that call, and says why.
  /^uncaught exception; exception = workerd\/io\/io-context\.c\+\+:\d+: failed: jsg\.Error: The Workers runtime canceled this request because it detected that your Worker's code had hung and would never generate a response\./,
  // Tests that cut every object off mid-work on purpose (abortAllDurableObjects, which no code under
  // src/ calls) and then check what survived: the runtime reports each call it cut.
  /^exception = workerd\/api\/unsafe\.c\+\+:\d+: failed: jsg\.Error: Application called abortAllDurableObjects\(\)\.\n/,
  // A body streamed past the 4 MiB limit is cut off by the service (test/api/malformed.test.ts);
  // the runtime reports the writer's broken pipe.
  /^exception = kj\/async-io\.c\+\+:\d+: disconnected: read end of pipe was aborted\n/,
];

const isExpected = (chunk) => {
  const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
  return expected.some((pattern) => pattern.test(text));
};

export default function setup() {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    const write = stream.write;
    stream.write = function (chunk, ...rest) {
      if (isExpected(chunk)) {
        const callback = rest.find((arg) => typeof arg === "function");
        if (callback) callback();
        return true;
      }
      return write.call(this, chunk, ...rest);
    };
  }
  return () => streams.forEach((stream, index) => (stream.write = originals[index]));
}
