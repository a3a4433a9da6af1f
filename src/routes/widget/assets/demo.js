// The demo shop's "server side", in the page for the demo only: a real shop mints member tokens
// on its server with the storefront key and hands the browser the token alone.
(() => {
  const panel = document.getElementById("panel");
  const form = document.getElementById("sign-in");
  const errorLine = document.getElementById("sign-in-error");
  const stored = () => JSON.parse(sessionStorage.getItem("demo-member") || "null");

  async function mint() {
    const who = stored();
    if (!who) return null;
    const auth = { authorization: `Bearer ${who.key}` };
    const found = await fetch(`/v1/members?externalId=${encodeURIComponent(who.externalId)}`, { headers: auth });
    if (!found.ok) throw new Error(`member lookup: ${(await found.json()).error.message}`);
    const member = await found.json();
    const minted = await fetch(`/v1/members/${member.id}/tokens`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ scopes: ["read", "redeem"], ttlSeconds: 900 }),
    });
    if (!minted.ok) throw new Error(`token: ${(await minted.json()).error.message}`);
    return minted.json();
  }

  panel.tokenProvider = mint;
  const who = stored();
  if (who) {
    document.getElementById("external-id").value = who.externalId;
    document.getElementById("lang").value = who.lang || "en";
    panel.setAttribute("lang", who.lang || "en");
    panel.refresh();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorLine.textContent = "";
    const next = {
      key: document.getElementById("storefront-key").value.trim(),
      externalId: document.getElementById("external-id").value.trim(),
      lang: document.getElementById("lang").value,
    };
    sessionStorage.setItem("demo-member", JSON.stringify(next));
    try {
      await mint();
    } catch (err) {
      errorLine.textContent = String(err.message || err);
      sessionStorage.removeItem("demo-member");
      return;
    }
    panel.setAttribute("lang", next.lang);
    panel.refresh();
  });

  document.getElementById("lang").addEventListener("change", (e) => panel.setAttribute("lang", e.target.value));
  document.getElementById("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem("demo-member");
    panel.refresh();
  });
})();
