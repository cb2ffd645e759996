import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { CreateKeyBody, CreateTokenBody } from "../../../src/schema/account";
import { Allowed, useRights } from "../rights";
import { ConfirmButton, Field, Pager, Section, Status, formatTime, jsonOf, listOf, numberOf, useAction, usePages, listCaption } from "../ui";
import { check } from "../validate";

type Key = OperationOutput<"listKeys">["keys"][number];

/** A policy allowing everything on the account, as a starting point to edit. */
const FullPolicy = JSON.stringify({ statements: [{ actions: ["*"], resources: ["*"] }] }, null, 2);

/** A policy in a line: `send+read on queue:orders-*; ...`. */
export const policyText = (policy: { statements: Array<{ actions: string[]; resources: string[] }> }): string =>
  policy.statements.map((statement) => `${statement.actions.join("+")} on ${statement.resources.join(", ")}`).join("; ") || "nothing";

export function Keys({ client, account }: { client: EdgeCmqClient; account: string }) {
  const [search, setSearch] = useState("");
  const keys = usePages((page) => client.listKeys({ account, ...page, ...(search ? { search } : {}) }), [account, search]);
  const rights = useRights();
  const changeRefusal = rights.credentialChangeRefusal;
  const [policy, setPolicy] = useState(FullPolicy);
  const [secret, setSecret] = useState<{ secretId: string; secretKey: string } | null>(null);
  const action = useAction();
  const create = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = check(CreateKeyBody, { policy: jsonOf(policy) });
      const refused = rights.keyChangeRefusal(body.policy);
      if (refused) throw new Error(refused);
      const created = await client.createKey({ account, ...body });
      setSecret({ secretId: created.secretId, secretKey: created.secretKey });
      keys.reload();
    });
  };
  const change = (key: Key, what: "disable" | "enable" | "rotate" | "delete") =>
    void action.run(async () => {
      if (what === "rotate") {
        const rotated = await client.rotateKey({ account, secretId: key.secretId });
        setSecret({ secretId: rotated.secretId, secretKey: rotated.secretKey });
      } else if (what === "delete") {
        await client.deleteKey({ account, secretId: key.secretId });
      } else {
        await client.updateKey({ account, secretId: key.secretId, disabled: what === "disable" });
      }
      keys.reload();
      return `key ${key.secretId} ${what === "rotate" ? "rotated" : `${what}d`}`;
    });
  return (
    <Section title={`Keys of ${account}`}>
      <Status error={keys.error ?? action.error} done={action.done} />
      {secret && (
        <div class="secret" role="status">
          <p>Copy the secret key now: it is not shown again.</p>
          <dl>
            <div><dt>Secret id</dt><dd data-secret="id">{secret.secretId}</dd></div>
            <div><dt>Secret key</dt><dd data-secret="key">{secret.secretKey}</dd></div>
          </dl>
        </div>
      )}
      <div role="search">
        <Field label="Search keys" type="search" value={search} onInput={setSearch} hint="SecretIds containing this, in any case." />
      </div>
      {keys.data && (
        <div class="table-wrap">
          <table aria-label="Keys">
            <caption>
              {listCaption(keys.data.total, keys.data.keys.length, "key")}
            </caption>
            <thead>
              <tr><th scope="col">Secret id</th><th scope="col">State</th><th scope="col">Policy</th><th scope="col">Created</th><th scope="col">Rotated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
            </thead>
            <tbody>
              {keys.data.keys.length === 0 && <tr><td colSpan={6}>No keys.</td></tr>}
              {keys.data.keys.map((key) => (
                <tr>
                  <th scope="row" class="mono">{key.secretId}</th>
                  <td data-key-state>{key.disabled ? "disabled" : "enabled"}</td>
                  <td class="mono">{policyText(key.policy)}</td>
                  <td>{formatTime(key.createdAt)}</td>
                  <td>{formatTime(key.rotatedAt)}</td>
                  <td class="actions">
                    <Allowed refusal={rights.keyChangeRefusal(key.policy)}>
                      <button type="button" onClick={() => change(key, key.disabled ? "enable" : "disable")} aria-label={`${key.disabled ? "Enable" : "Disable"} key ${key.secretId}`}>
                        {key.disabled ? "Enable" : "Disable"}
                      </button>
                      <ConfirmButton label="Rotate" question={`Replace the secret of ${key.secretId}? The old one stops working at once.`} onConfirm={() => change(key, "rotate")} />
                      <ConfirmButton label="Delete" question={`Delete key ${key.secretId}?`} onConfirm={() => change(key, "delete")} />
                    </Allowed>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Keys" pages={keys} total={keys.data?.total} />
      <Allowed refusal={changeRefusal}>
        <form onSubmit={create} noValidate>
          <Field label="Policy of the new key (JSON)" name="policy" multiline value={policy} onInput={setPolicy} hint="Statements of actions (manage, read, send, receive, publish or *) on resources (*, queue:<pattern>, topic:<pattern>)." />
          <button type="submit" disabled={action.busy}>Create key</button>
        </form>
      </Allowed>
    </Section>
  );
}

export function MintToken({ client }: { client: EdgeCmqClient }) {
  const [actions, setActions] = useState("read");
  const [resources, setResources] = useState("*");
  const [ttl, setTtl] = useState("");
  const [token, setToken] = useState<OperationOutput<"createToken"> | null>(null);
  const action = useAction();
  const rights = useRights();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = check(CreateTokenBody, { actions: listOf(actions) ?? [], resources: listOf(resources) ?? [], ttlSeconds: numberOf(ttl) });
      // A token holds at most its caller's rights: ask for more and the service refuses.
      for (const wanted of body.actions) for (const resource of body.resources) rights.require(wanted, resource);
      setToken(await client.createToken(body));
    });
  };
  return (
    <Section title="Mint a browser token">
      <p class="hint">A short-lived token with at most your own rights, for a web page to call the service with.</p>
      <form onSubmit={submit} noValidate>
        <Field label="Actions" name="tokenActions" value={actions} onInput={setActions} hint="Separated by commas: manage, read, send, receive, publish." />
        <Field label="Resources" name="tokenResources" value={resources} onInput={setResources} hint="Separated by commas: *, queue:<pattern> or topic:<pattern>." />
        <Field label="Lifetime (s)" name="ttlSeconds" value={ttl} onInput={setTtl} hint="Empty: the service's default." />
        <button type="submit" disabled={action.busy}>Mint token</button>
      </form>
      <Status error={action.error} />
      {token && (
        <div class="secret" role="status">
          <p>Token, valid until {formatTime(token.expiresAt)}:</p>
          <pre class="mono" data-token>{token.token}</pre>
        </div>
      )}
    </Section>
  );
}
