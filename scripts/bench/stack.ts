/**
 * The local stack for benchmarks and stress tests: `scripts/dev.ts` (libSQL server in-process,
 * migrations, then `wrangler dev`) started in its own process group on free ports with a fresh
 * database, and stopped as a group. Also reads the stack's memory from /proc.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));
const repoRoot = root;

export type Stack = {
  apiUrl: string;
  libsqlUrl: string;
  /** LIBSQL_URL and LIBSQL_AUTH_TOKEN of the stack's libSQL server (started with its own token). */
  dbEnv: { LIBSQL_URL: string; LIBSQL_AUTH_TOKEN: string };
  /** POST/DELETE here (with the token and a JSON body) to inject libSQL faults (only with `faults: true`). */
  faultsUrl: string;
  /** The `scripts/dev.ts` process: the libSQL server runs inside it. */
  serverPid: number;
  /** Every process of the stack (dev.ts, wrangler, workerd). */
  pids(): number[];
  /** Recent output, for error messages. */
  log(): string;
  stop(): Promise<void>;
};

export type StackOptions = {
  faults?: boolean;
  vars?: Record<string, string>;
  keepDatabase?: boolean;
  timeoutMs?: number;
  /** Serve a build made at start (default) rather than watching src/: edits made meanwhile do not restart the Worker mid-run. */
  snapshot?: boolean;
  /** Another checkout to serve (an A/B run against an older commit); default this repository. */
  root?: string;
  /** The Worker entry to serve, relative to the root (the bench's: scripts/bench/worker.ts); default wrangler.toml's `main`. */
  entry?: string;
};

/**
 * Bundle the Worker once (`wrangler deploy --dry-run --outdir`) and write a config that serves
 * that bundle as is: wrangler dev watches and rebuilds its sources, which would restart the
 * Worker (and its Durable Objects) mid-run whenever a file under src/ changes.
 */
async function snapshotConfig(dir: string, root: string, entry: string | undefined): Promise<string> {
  await new Promise<void>((resolve, reject) =>
    execFile(
      `${root}/node_modules/.bin/wrangler`,
      ["deploy", "--dry-run", "--outdir", dir, ...(entry ? [entry] : [])],
      { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: `${root}/.config` } },
      (err, _out, stderr) => (err ? reject(new Error(`wrangler build failed: ${stderr || err.message}`)) : resolve()),
    ),
  );
  // The bundle is named after its entry; its extra modules (the dashboard's ?raw files) keep their text type by exact name.
  const main = `${basename(entry ?? "index.ts").replace(/\.[cm]?[jt]s$/, "")}.js`;
  const textModules = readdirSync(dir).filter((f) => f !== main && f !== `${main}.map` && f !== "README.md");
  const config = readFileSync(join(root, "wrangler.toml"), "utf8")
    .replace(/^main = .*$/m, `main = "${main}"\nno_bundle = true\nfind_additional_modules = true`)
    .replace(/\[\[rules\]\]\ntype = "Text"\nglobs = \[[^\]]*\]/, `[[rules]]\ntype = "Text"\nglobs = ${JSON.stringify(textModules)}`);
  const path = join(dir, "wrangler.toml");
  writeFileSync(path, config);
  return path;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number, log: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the local stack exited with code ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the local stack did not become healthy within ${timeoutMs} ms:\n${log()}`);
}

/** Start `scripts/dev.ts` detached (its own process group) with a fresh LIBSQL_DB; resolves once /health answers. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const root = options.root ?? repoRoot;
  const [dbPort, apiPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
  const dbName = `bench-${Date.now()}-${process.pid}`;
  const libsqlAuthToken = randomBytes(32).toString("base64url");
  const persistDir = mkdtempSync(join(tmpdir(), "loyalty-stack-"));
  const buildDir = mkdtempSync(join(tmpdir(), "loyalty-build-"));
  const config =
    options.snapshot === false
      ? [...(options.entry ? [options.entry] : [])]
      : ["--config", await snapshotConfig(buildDir, root, options.entry)];
  const vars = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  // `node --import tsx` (not the tsx CLI) so the spawned pid is the process that hosts the libSQL server.
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "scripts/dev.ts",
      ...config,
      ...vars,
      "--persist-to",
      persistDir,
      "--inspector-port",
      String(inspectorPort),
      "--log-level",
      process.env.STACK_LOG_LEVEL ?? "warn",
    ],
    {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        LIBSQL_PORT: String(dbPort),
        PORT: String(apiPort),
        LIBSQL_DB: dbName,
        LIBSQL_SERVER_AUTH_TOKEN: libsqlAuthToken,
        LIBSQL_FAULTS: options.faults ? "1" : "0",
        // A private dev registry: this stack neither sees nor is seen by other `wrangler dev`
        // sessions of the same Worker on the machine.
        WRANGLER_REGISTRY_PATH: join(persistDir, "registry"),
      },
    },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  // Debugging: STACK_LOG_FILE=path keeps the stack's whole output (with STACK_LOG_LEVEL=info|debug).
  if (process.env.STACK_LOG_FILE) {
    const file = createWriteStream(process.env.STACK_LOG_FILE, { flags: "a" });
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pgid = child.pid!;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pgid, sig);
      } catch {
        // already gone
      }
    };
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), 8_000);
    await exited;
    clearTimeout(timer);
    // wrangler and workerd may outlive dev.ts by a moment: make sure the whole group is gone.
    for (let i = 0; i < 40 && groupPids(pgid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    signal("SIGKILL");
    rmSync(persistDir, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
    if (!options.keepDatabase)
      for (const suffix of ["", "-wal", "-shm"]) rmSync(join(root, ".data", `${dbName}.db${suffix}`), { force: true });
  };

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const libsqlUrl = `http://127.0.0.1:${dbPort}`;
  try {
    await waitForHealth(apiUrl, child, options.timeoutMs ?? 90_000, () => output);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    apiUrl,
    libsqlUrl,
    dbEnv: { LIBSQL_URL: libsqlUrl, LIBSQL_AUTH_TOKEN: libsqlAuthToken },
    faultsUrl: `${libsqlUrl}/__faults`,
    serverPid: pgid,
    pids: () => groupPids(pgid),
    log: () => output,
    stop,
  };
}

// --- memory, from /proc (Linux) ----------------------------------------------------------------

function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Fields after the parenthesised command: state, ppid, pgrp, …
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function statusKb(pid: number | "self", field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const MB = 1024;
/** Resident memory now, in MB. */
const rssMb = (pid: number | "self") => statusKb(pid, "VmRSS") / MB;
/** Peak resident memory since the last `resetPeak`, in MB. */
export const peakMb = (pid: number | "self") => statusKb(pid, "VmHWM") / MB;
/** Reset the kernel's peak-RSS counter (VmHWM) of a process we own. */
export function resetPeak(pid: number | "self") {
  try {
    if (existsSync(`/proc/${pid}/clear_refs`)) writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    // not permitted: the peak then counts from the process start
  }
}

const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
};

/**
 * RSS of the stack's parts: the libSQL server (the dev.ts process), the Worker runtime (the workerd
 * running our code and its Durable Objects) and wrangler dev's proxy (the workerd listening on the
 * public port, which forwards every request to the Worker: dev tooling, not part of what we ship).
 */
export function stackMemory(stack: Stack) {
  const pids = stack.pids();
  const apiPort = new URL(stack.apiUrl).port;
  const workerd = pids.filter((p) => /workerd/.test(commandOf(p)));
  const isProxy = (p: number) => commandOf(p).includes(`entry=127.0.0.1:${apiPort}`);
  const sum = (list: number[]) => list.reduce((s, p) => s + rssMb(p), 0);
  return {
    libsqlMb: rssMb(stack.serverPid),
    workerMb: sum(workerd.filter((p) => !isProxy(p))),
    proxyMb: sum(workerd.filter(isProxy)),
    totalMb: sum(pids),
  };
}
