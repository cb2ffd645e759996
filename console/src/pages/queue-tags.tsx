import type { EdgeCmqClient } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { QueueLimits, QueueTags } from "../../../src/schema/queue";
import { Allowed, refusal, useRights } from "../rights";
import { ConfirmButton, Field, Section, Status, useAction, useLoad } from "../ui";
import { check } from "../validate";

/** A queue's tags, read and changed in place: labels for its owner, with no effect on messages. */
export function QueueTagsView({ client, queue }: { client: EdgeCmqClient; queue: string }) {
  const rights = useRights();
  const tags = useLoad(() => client.listQueueTags({ queue }), [queue]);
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const action = useAction();
  const entries = Object.entries(tags.data?.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const add = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const given = check(QueueTags, { [key.trim()]: value });
      await client.tagQueue({ queue, tags: given });
      tags.reload();
      setKey("");
      setValue("");
      return `tag ${key.trim()} saved`;
    });
  };
  const remove = (tagKey: string) =>
    void action.run(async () => {
      await client.untagQueue({ queue, keys: [tagKey] });
      tags.reload();
      return `tag ${tagKey} removed`;
    });
  return (
    <Section title="Tags">
      <Status error={tags.error} />
      <Allowed refusal={refusal(rights, "manage", `queue:${queue}`)}>
        {tags.data && (
          <div class="table-wrap">
            <table aria-label="Queue tags">
              <thead>
                <tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
              </thead>
              <tbody>
                {entries.length === 0 && <tr><td colSpan={3}>No tags.</td></tr>}
                {entries.map(([tagKey, tagValue]) => (
                  <tr>
                    <th scope="row" class="mono">{tagKey}</th>
                    <td class="mono">{tagValue}</td>
                    <td>
                      <ConfirmButton label="Remove" ariaLabel={`Remove tag ${tagKey}`} question={`Remove tag ${tagKey}?`} onConfirm={() => remove(tagKey)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form onSubmit={add} noValidate class="row" aria-label="Add or change a tag">
          <Field label="Tag key" name="tagKey" value={key} onInput={setKey} hint={`A key it has already gets the new value; at most ${QueueLimits.queueTagsMax} tags.`} />
          <Field label="Tag value" name="tagValue" value={value} onInput={setValue} />
          <button type="submit" disabled={action.busy}>Save tag</button>
        </form>
      </Allowed>
      <Status error={action.error} done={action.done} />
    </Section>
  );
}
