import assert from "node:assert/strict";
import { join } from "node:path";
import { isRunning } from "./cluster.ts";
import { stackLayout } from "./layout.ts";
import { projectRoot } from "./paths.ts";
import { canConnect, freeBasePort } from "../tests/testing.ts";

function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = [...Deno.readDirSync(`/proc/${p}/task`)].map((t) => t.name);
    } catch {
      return;
    }
    for (const t of tasks) {
      const kids = Deno.readTextFileSync(`/proc/${p}/task/${t}/children`).trim();
      for (const k of kids ? kids.split(/\s+/).map(Number) : []) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie is gone for our purposes
  } catch {
    return false;
  }
};

Deno.test("start serves the stack until Ctrl-C, then leaves no process behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stack-start-" });
  const base = await freeBasePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(projectRoot, "stack/start.ts"),
      "--dir",
      dir,
      "--base-port",
      String(base),
    ],
    cwd: projectRoot,
    // Without COMPOSIO_API_KEY, so this stack runs its own Composio sandbox.
    clearEnv: true,
    env: Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("COMPOSIO_")),
    ),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const reading = (async () => {
    for await (const c of child.stdout.pipeThrough(new TextDecoderStream())) out += c;
  })();
  const errText = new Response(child.stderr).text();
  try {
    const until = Date.now() + 90_000;
    while (!out.includes("Local stack is running")) {
      if (Date.now() > until) throw new Error(`start did not come up:\n${out}\n${await errText}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(out, new RegExp(`Functions\\s+http://127\\.0\\.0\\.1:${base}/functions/v1`));
    for (const port of [base, base + 1, base + 8, base + 9, base + 10]) {
      assert.ok(await canConnect(port), `port ${port} open\n${out}`);
    }
    const res = await fetch(`http://127.0.0.1:${base}/functions/v1/no-such-function`);
    assert.equal(res.status, 404);
    await res.body?.cancel();

    const kids = descendants(child.pid);
    assert.ok(kids.length > 0, "start runs child processes (pooler, functions)");
    child.kill("SIGINT");
    const status = await child.status;
    assert.equal(status.code, 0, await errText);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(kids.filter(alive), [], "no child process outlives start");
    const cluster = { dir: stackLayout(dir).clusterDir, port: base + 1, durable: true };
    assert.equal(await isRunning(cluster), false, "Postgres stopped");
    for (const port of [base, base + 1, base + 8, base + 9, base + 10]) {
      assert.equal(await canConnect(port), false, `port ${port} closed`);
    }
  } finally {
    // On a failure path, still let start shut its children down before forcing it.
    try {
      child.kill("SIGINT");
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await child.status;
      clearTimeout(t);
    } catch { /* exited */ }
    await reading;
    await errText;
    await Deno.remove(dir, { recursive: true });
  }
});
