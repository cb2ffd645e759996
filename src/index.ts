import { cmqAdapter } from "./api/cmq";
import { consoleRedirectAdapter } from "./api/console";
import { dispatch, type ProtocolAdapter } from "./api/dispatch";
import { restAdapter } from "./api/rest";
import { sqsAdapter } from "./api/sqs";
import { tcapiAdapter } from "./api/tcapi";

export { QueueService } from "./api/rpc";
export { AccountObject } from "./objects/account-object";
export { CatalogObject } from "./objects/catalog-object";
export { QueueObject } from "./objects/queue-object";
export { TopicObject } from "./objects/topic-object";

/** Protocol adapters, tried in order; the last one (the native REST API) takes what no other claims. */
const adapters: readonly ProtocolAdapter[] = [sqsAdapter, tcapiAdapter, cmqAdapter, consoleRedirectAdapter, restAdapter];

export default {
  fetch: (request, env, ctx) => dispatch(adapters, request, env, ctx),
} satisfies ExportedHandler<Env>;
