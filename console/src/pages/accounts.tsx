import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { CreateAccountBody, CreateKeyBody, CreateTokenBody } from "../../../src/schema/account";
import { ConfirmButton, Field, Section, Select, Status, formatTime, jsonOf, listOf, numberOf, useAction, useLoad } from "../ui";
import { check } from "../validate";

type Key = OperationOutput<"listKeys">["keys"][number];

/** A policy allowing everything on the account, as a starting point to edit. */
const FullPolicy = JSON.stringify({ statements: [{ actions: ["*"], resources: ["*"] }] }, null, 2);

export function AccountsPage({ client }: { client: EdgeCmqClient }) {
  // Listing accounts is for the root credentials; a key of one account names it instead.
  const accounts = useLoad(() => client.listAccounts().catch((error: { code?: string }) => (error.code === "Forbidden" ? null : Promise.reject(error))), []);
  const [chosen, setChosen] = useState("");
  const names = accounts.data?.accounts.map((account) => account.id) ?? [];
  const account = chosen || names[0] || "";
  return (
    <>
      <h1>Accounts and keys</h1>
      <Status error={accounts.error} />
      {accounts.data ? (
        <>
          <Select label="Account" value={account} options={names} onChange={setChosen} />
          <CreateAccount client={client} onCreated={(id) => {
            accounts.reload();
            setChosen(id);
          }} />
        </>
      ) : (
        <Field label="Account id" value={chosen} onInput={setChosen} hint="Only the root credentials list every account: name yours." />
      )}
      {account && <Keys key={account} client={client} account={account} />}
      <MintToken client={client} />
    </>
  );
}

function CreateAccount({ client, onCreated }: { client: EdgeCmqClient; onCreated: (id: string) => void }) {
  const [name, setName] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const created = await client.createAccount(check(CreateAccountBody, { name }));
      onCreated(created.id);
      return `account ${created.id} created`;
    });
  };
  return (
    <Section title="Create an account">
      <form onSubmit={submit} noValidate class="row">
        <Field label="Account name" name="accountName" value={name} onInput={setName} />
        <button type="submit" disabled={action.busy}>Create account</button>
      </form>
      <Status error={action.error} done={action.done} />
    </Section>
  );
}

function Keys({ client, account }: { client: EdgeCmqClient; account: string }) {
  const keys = useLoad(() => client.listKeys({ account }), [account]);
  const [policy, setPolicy] = useState(FullPolicy);
  const [secret, setSecret] = useState<{ secretId: string; secretKey: string } | null>(null);
  const action = useAction();
  const create = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = check(CreateKeyBody, { policy: jsonOf(policy) });
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
      {keys.data && (
        <div class="table-wrap">
          <table aria-label="Keys">
            <thead>
              <tr><th scope="col">Secret id</th><th scope="col">State</th><th scope="col">Policy</th><th scope="col">Created</th><th scope="col">Rotated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
            </thead>
            <tbody>
              {keys.data.keys.length === 0 && <tr><td colSpan={6}>No keys.</td></tr>}
              {keys.data.keys.map((key) => (
                <tr>
                  <th scope="row" class="mono">{key.secretId}</th>
                  <td data-key-state>{key.disabled ? "disabled" : "enabled"}</td>
                  <td class="mono">{key.policy.statements.map((statement) => `${statement.actions.join("+")} on ${statement.resources.join(", ")}`).join("; ") || "nothing"}</td>
                  <td>{formatTime(key.createdAt)}</td>
                  <td>{formatTime(key.rotatedAt)}</td>
                  <td class="actions">
                    <button type="button" onClick={() => change(key, key.disabled ? "enable" : "disable")} aria-label={`${key.disabled ? "Enable" : "Disable"} key ${key.secretId}`}>
                      {key.disabled ? "Enable" : "Disable"}
                    </button>
                    <ConfirmButton label="Rotate" question={`Replace the secret of ${key.secretId}? The old one stops working at once.`} onConfirm={() => change(key, "rotate")} />
                    <ConfirmButton label="Delete" question={`Delete key ${key.secretId}?`} onConfirm={() => change(key, "delete")} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={create} noValidate>
        <Field label="Policy of the new key (JSON)" name="policy" multiline value={policy} onInput={setPolicy} hint="Statements of actions (manage, read, send, receive, publish or *) on resources (*, queue:<pattern>, topic:<pattern>)." />
        <button type="submit" disabled={action.busy}>Create key</button>
      </form>
    </Section>
  );
}

function MintToken({ client }: { client: EdgeCmqClient }) {
  const [actions, setActions] = useState("read");
  const [resources, setResources] = useState("*");
  const [ttl, setTtl] = useState("");
  const [token, setToken] = useState<OperationOutput<"createToken"> | null>(null);
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = check(CreateTokenBody, { actions: listOf(actions) ?? [], resources: listOf(resources) ?? [], ttlSeconds: numberOf(ttl) });
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
