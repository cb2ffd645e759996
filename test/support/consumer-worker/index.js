// A separate Worker that uses the queue service only through its service binding (RPC entrypoint),
// the way another team's Worker would. The test drives it over fetch with a JSON "script":
// {method, args} calls the entrypoint; with "credentials" it first asks for a client acting as
// that key or token.
export default {
  async fetch(request, env) {
    const { method, args, credentials } = await request.json();
    try {
      const target = credentials ? await env.CMQ.withCredentials(credentials) : env.CMQ;
      const value = await target[method](...args);
      return Response.json({ ok: true, value: value ?? null });
    } catch (error) {
      return Response.json({ ok: false, name: error.name, message: error.message, code: error.code, fault: error.fault, retryable: error.retryable });
    }
  },
};
