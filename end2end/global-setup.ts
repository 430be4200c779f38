// Waits for the servers under test to answer before any test starts.
async function waitFor(url: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/login`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`server at ${url} did not answer within 120 s (${last})`);
}

export default async function globalSetup(): Promise<void> {
  await waitFor(process.env.NIDAN_E2E_URL ?? 'http://127.0.0.1:3100');
  if (process.env.NIDAN_E2E_SHORT_URL) await waitFor(process.env.NIDAN_E2E_SHORT_URL);
}
