// A separate Worker that uses the queue service only through its service binding (RPC entrypoint),
// the way another team's Worker would. The test drives it over fetch with a JSON "script".
export default {
  async fetch(request, env) {
    const { method, args } = await request.json();
    try {
      const value = await env.CMQ[method](...args);
      return Response.json({ ok: true, value: value ?? null });
    } catch (error) {
      return Response.json({ ok: false, name: error.name, message: error.message });
    }
  },
};
