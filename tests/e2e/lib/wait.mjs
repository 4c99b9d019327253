// wait.mjs — polling helpers for browser tests.
//
//   await sleep(300)
//   await waitFor('the queue to be empty', async () => (await pending()) === 0, { timeout: 15000 })
//     -> the first truthy value of fn; throws naming `what` (and the last value or error) on timeout

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, fn, { timeout = 15000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await sleep(interval);
  }
}
