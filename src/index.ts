import { router } from "./api/rest";

export { QueueService } from "./api/rpc";
export { AccountObject } from "./objects/account-object";
export { CatalogObject } from "./objects/catalog-object";
export { QueueObject } from "./objects/queue-object";
export { TopicObject } from "./objects/topic-object";

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
