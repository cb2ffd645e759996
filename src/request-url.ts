/**
 * A request's URL, parsed once however many parts of its handling read it (routing, a signature's
 * canonical request, the origin an answer names).
 */
const parsed = new WeakMap<Request, URL>();

export function urlOf(request: Request): URL {
  let url = parsed.get(request);
  if (!url) {
    url = new URL(request.url);
    parsed.set(request, url);
  }
  return url;
}
