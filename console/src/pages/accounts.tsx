import type { EdgeCmqClient, OperationOutput } from "@edge-cmq/client";
import { useState } from "preact/hooks";
import { CreateAccountBody, UpdateAccountBody } from "../../../src/schema/account";
import { Allowed, useRights, type WhoAmI } from "../rights";
import { Field, Pager, Section, Status, formatTime, listOf, useAction, useLoad, usePages, listCaption } from "../ui";
import { check } from "../validate";
import { Keys, MintToken, policyText } from "./keys";

type Account = OperationOutput<"getAccount">;

/**
 * Root sees every account and picks one; other credentials see their own. Keys and the account's
 * settings are shown to those who may read them (root, or `manage` on `*`).
 */
export function AccountsPage({ client }: { client: EdgeCmqClient }) {
  const rights = useRights();
  const [chosen, setChosen] = useState(rights.identity.account);
  const account = rights.isRoot ? chosen : rights.identity.account;
  return (
    <>
      <h1>{rights.isRoot ? "Accounts and keys" : "Your account"}</h1>
      <Identity identity={rights.identity} />
      {rights.isRoot && (
        <>
          <AccountList client={client} chosen={account} onChoose={setChosen} />
          <CreateAccount client={client} onCreated={setChosen} />
        </>
      )}
      {rights.mayReadKeys ? (
        <>
          <AccountSettings key={`settings-${account}`} client={client} account={account} />
          <Keys key={account} client={client} account={account} />
        </>
      ) : (
        <p class="hint" data-refused>Keys and the account's settings are for root or a key allowed manage on *.</p>
      )}
      <MintToken client={client} />
    </>
  );
}

function Identity({ identity }: { identity: WhoAmI }) {
  return (
    <Section title="Signed in as">
      <dl class="identity">
        <div><dt>Kind</dt><dd data-identity-kind>{identity.kind}</dd></div>
        <div><dt>Account</dt><dd class="mono">{identity.account}</dd></div>
        {identity.secretId && <div><dt>{identity.kind === "token" ? "Minted by key" : "Secret id"}</dt><dd class="mono">{identity.secretId}</dd></div>}
        <div><dt>Policy</dt><dd class="mono" data-identity-policy>{identity.policy ? policyText(identity.policy) : "everything"}</dd></div>
        {identity.token && (
          <>
            <div><dt>Token scope</dt><dd class="mono">{policyText({ statements: [identity.token] })}</dd></div>
            <div><dt>Token expires</dt><dd data-identity-expiry>{formatTime(identity.token.expiresAt)}</dd></div>
          </>
        )}
      </dl>
    </Section>
  );
}

/** Every account, a page at a time, found by name on the service. */
function AccountList({ client, chosen, onChoose }: { client: EdgeCmqClient; chosen: string; onChoose: (id: string) => void }) {
  const [search, setSearch] = useState("");
  const list = usePages((page) => client.listAccounts({ ...page, ...(search ? { search } : {}) }), [search]);
  return (
    <Section title="Accounts">
      <div role="search">
        <Field label="Search accounts" type="search" value={search} onInput={setSearch} hint="Names containing this, in any case." />
      </div>
      <Status error={list.error} />
      {list.data && (
        <div class="table-wrap">
          <table aria-label="Accounts">
            <caption>
              {listCaption(list.data.total, list.data.accounts.length, "account")}
            </caption>
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
            </thead>
            <tbody>
              {list.data.accounts.map((account) => (
                <tr>
                  <th scope="row">{account.name}</th>
                  <td class="mono">{account.id}</td>
                  <td>{formatTime(account.createdAt)}</td>
                  <td>
                    <button type="button" aria-pressed={account.id === chosen} onClick={() => onChoose(account.id)} aria-label={`Show account ${account.name}`}>
                      {account.id === chosen ? "Shown" : "Show"}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Accounts" pages={list} total={list.data?.total} />
    </Section>
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

/** The origins whose pages may read the account's answers, changed in place. */
function AccountSettings({ client, account }: { client: EdgeCmqClient; account: string }) {
  const loaded = useLoad(() => client.getAccount({ account }), [account]);
  return (
    <Section title={`Account ${account}`}>
      <Status error={loaded.error} />
      {loaded.data && <AllowedOrigins key={JSON.stringify(loaded.data.allowedOrigins)} client={client} account={loaded.data} onSaved={loaded.reload} />}
    </Section>
  );
}

function AllowedOrigins({ client, account, onSaved }: { client: EdgeCmqClient; account: Account; onSaved: () => void }) {
  const [origins, setOrigins] = useState((account.allowedOrigins ?? []).join(", "));
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      // None typed: any origin may read the answers again.
      const change = check(UpdateAccountBody, { allowedOrigins: listOf(origins) ?? null });
      await client.updateAccount({ account: account.id, ...change });
      onSaved();
      return change.allowedOrigins ? "allowed origins saved" : "any origin may read the answers";
    });
  };
  return (
    <>
      <p class="hint">
        {account.name}, created {formatTime(account.createdAt)}. Pages of{" "}
        <span data-origins>{account.allowedOrigins ? account.allowedOrigins.join(", ") : "any origin"}</span> may read its answers.
      </p>
      <Allowed refusal={useRights().credentialChangeRefusal}>
        <form onSubmit={submit} noValidate>
          <Field label="Allowed origins" name="allowedOrigins" value={origins} onInput={setOrigins} hint={`scheme://host[:port], separated by commas; empty: any origin. Live sockets are held to them too: list ${location.origin} to watch topics from this console.`} />
          <button type="submit" disabled={action.busy}>Save origins</button>
        </form>
      </Allowed>
      <Status error={action.error} done={action.done} />
    </>
  );
}
