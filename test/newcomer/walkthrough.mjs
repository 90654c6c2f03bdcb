/**
 * The README's walkthroughs, run as written. The shell blocks are read from README.md itself
 * (so a README that drifts from the product fails here), run in one bash, in order, as a reader
 * would paste them, and each command's output is checked against what the README says it shows.
 * On a stack started on ports of its own, the only rewrite is what the README asks of a reader on
 * other ports: the `GW=` and `EMU=` lines. A command that names a default port anywhere else
 * (a URL written out, a port inside a JSON body) fails the run, as it would fail that reader.
 *
 * Used by the newcomer run (test/newcomer/newcomer.mjs) and the browser test.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/**
 * The README's variables for the default ports, as its blocks set them: the gateway, the
 * emulator, and (in "Use it in your own Worker") the reader's own Worker.
 */
const README_DEFAULTS = {
  GW: "http://localhost:8787",
  EMU: "http://127.0.0.1:8788",
  APP: "http://localhost:8811",
  PORT: "8811",
};
const ASSIGNMENT = new RegExp(`^(${Object.keys(README_DEFAULTS).join("|")})=(\\S+)(.*)$`);
const DEFAULT_PORT = /\b(8787|8788|8811)\b/;

/**
 * A README command as a reader on other ports runs it: its `GW=`, `EMU=`, `APP=` and `PORT=`
 * lines set to the values in `values` (each one the command sets must be given). Throws when the
 * command still names a default port elsewhere.
 * @param {string} command @param {Partial<Record<keyof typeof README_DEFAULTS, string>>} values
 */
export function onOtherPorts(command, values) {
  const lines = command.split("\n").map((line) => {
    const assignment = ASSIGNMENT.exec(line);
    if (!assignment) return line;
    const [, name, value, rest] = assignment;
    assert.equal(value, README_DEFAULTS[name], `the README sets ${name} to ${README_DEFAULTS[name]}`);
    assert.ok(values[name], `this run has no value for the README's ${name}: ${line}`);
    return `${name}=${values[name]}${rest}`;
  });
  const onDefaults = Object.entries(values).every(([name, value]) => value === README_DEFAULTS[name]);
  const stray = lines.find((line) => !ASSIGNMENT.test(line) && DEFAULT_PORT.test(line));
  assert.ok(
    stray === undefined || onDefaults,
    `a README command names a default port outside its variables, so it fails on other ports: ${stray}`,
  );
  return lines.join("\n");
}

/** Every fenced block of the README in language `lang` (`sh`, `ts`, `toml`), with the `## ` section it sits in. */
export function readmeBlocks(text = readFileSync(`${ROOT}/README.md`, "utf8"), lang = "sh") {
  const blocks = [];
  let section = "";
  let block = null;
  for (const line of text.split("\n")) {
    if (block) {
      if (line.startsWith("```")) {
        blocks.push(block);
        block = null;
      } else block.lines.push(line);
    } else if (line.startsWith("## ")) section = line.slice(3).trim();
    else if (line.trim() === `\`\`\`${lang}`) block = { section, lang, lines: [] };
  }
  return blocks;
}

/**
 * The commands of a block: continuation lines joined, a here-document kept whole, blank and
 * comment-only lines dropped, each labelled with the step ("1", "2", …) of the closest `# N.`
 * comment above it.
 */
export function commandsOf(block) {
  const commands = [];
  let step = "setup";
  let pending = "";
  let heredoc = null;
  for (const line of block.lines) {
    if (heredoc) {
      pending += `\n${line}`;
      if (line === heredoc) {
        commands.push({ step, text: pending });
        pending = "";
        heredoc = null;
      }
      continue;
    }
    const numbered = /^#\s*(\d+)\./.exec(line.trim());
    if (numbered) step = numbered[1];
    if (!pending && (line.trim() === "" || line.trim().startsWith("#"))) continue;
    pending += pending ? `\n${line}` : line;
    if (line.endsWith("\\")) continue;
    const opens = /<<-?\s*(['"]?)(\w+)\1/.exec(line);
    if (opens) {
      heredoc = opens[2];
      continue;
    }
    commands.push({ step, text: pending });
    pending = "";
  }
  assert.equal(heredoc, null, `a README here-document never ends (${heredoc})`);
  return commands;
}

/** The README's blocks of one section, `## ` title starting with `title`. */
export function sectionBlocks(title, blocks = readmeBlocks()) {
  const found = blocks.filter((b) => b.section.startsWith(title));
  assert.ok(found.length > 0, `README.md has no sh block under a "## ${title}…" heading`);
  return found;
}

/**
 * One bash, fed commands one at a time (so a command sees the variables of the ones before it,
 * as in a reader's terminal), each command's combined output returned separately.
 */
export function startShell({ gatewayUrl, emulatorUrl, values = {}, cwd = ROOT, timeoutMs = 30_000 }) {
  const shell = spawn("bash", ["--noprofile", "--norc"], {
    cwd,
    env: { ...process.env, LC_ALL: "C.UTF-8" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let buffer = "";
  let waiting = null;
  const onData = (chunk) => {
    buffer += chunk.toString();
    const match = /\n?@@DONE (\d+)@@\n/.exec(buffer);
    if (match && waiting) {
      const output = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      const resolve = waiting;
      waiting = null;
      resolve({ output, status: Number(match[1]) });
    }
  };
  shell.stdout.on("data", onData);
  shell.stderr.on("data", onData);
  const rewrite = (text) => onOtherPorts(text, { GW: gatewayUrl, EMU: emulatorUrl, ...values });
  return {
    /** @param {string} command @returns {Promise<{ output: string, status: number }>} */
    run(command) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${command}`)), timeoutMs);
        waiting = (result) => {
          clearTimeout(timer);
          resolve(result);
        };
        // Grouped, not a subshell: assignments persist; stderr joins stdout, in order.
        shell.stdin.write(`{\n${rewrite(command)}\n} 2>&1\nprintf '\\n@@DONE %s@@\\n' "$?"\n`);
      });
    },
    close() {
      shell.stdin.end();
      shell.kill();
    },
  };
}

const json = (output, what) => {
  try {
    return JSON.parse(output);
  } catch {
    assert.fail(`${what}: expected JSON, got ${JSON.stringify(output.slice(0, 300))}`);
  }
};

/** What each step of "Calling each of the ten operations" must show. `vars` holds the shell's ids. */
const EXPECT = {
  1: [
    (out) => assert.match(out.trim(), /^X-Cache: MISS$/i, "step 1, first read: X-Cache: MISS"),
    (out) => assert.match(out.trim(), /^X-Cache: HIT$/i, "step 1, second read: X-Cache: HIT"),
    (out, vars) => {
      const sessions = json(out, "step 1");
      assert.ok(Array.isArray(sessions) && sessions.length >= 4, "alice's active sessions, with this one");
      assert.ok(sessions.some((s) => s.id === vars.SID));
      assert.ok(sessions.every((s) => s.status === "active" && s.latest_activity));
    },
  ],
  2: [
    (out) => {
      const statuses = new Set(json(out, "step 2").map((s) => s.status));
      for (const status of ["active", "ended", "revoked"]) assert.ok(statuses.has(status), `step 2 lists ${status}`);
    },
  ],
  3: [
    (out, vars) => {
      const body = json(out, "step 3");
      assert.equal(body.client, null);
      assert.equal(body.response?.id, vars.LAPTOP);
      assert.equal(body.response?.status, "revoked");
    },
  ],
  4: [
    (out, vars) => {
      const body = json(out, "step 4");
      assert.ok(Array.isArray(body.data) && body.total_count === body.data.length);
      assert.ok(body.data.every((s) => s.status === "active" && s.user_id === vars.ALICE));
      assert.ok(!body.data.some((s) => s.id === vars.LAPTOP), "the device revoked in step 3 is gone");
    },
  ],
  5: [
    (out, vars) => {
      const body = json(out, "step 5");
      assert.equal(body.object, "session");
      assert.equal(body.status, "active");
      assert.equal(body.user_id, vars.ALICE);
      vars.CREATED = body.id;
    },
  ],
  6: [(out, vars) => assert.equal(json(out, "step 6").id, vars.SID)],
  7: [(out) => assert.match(json(out, "step 7").jwt ?? "", /^ey[\w-]+\.[\w-]+\.[\w-]+$/, "step 7: a fresh token")],
  8: [(out) => assert.match(json(out, "step 8").jwt ?? "", /^ey[\w-]+\.[\w-]+\.[\w-]+$/, "step 8: a session token")],
  9: [(out) => assert.match(json(out, "step 9").jwt ?? "", /^ey[\w-]+\.[\w-]+\.[\w-]+$/, "step 9: a template token")],
  10: [
    (out, vars) => {
      const body = json(out, "step 10");
      assert.equal(body.id, vars.SID);
      assert.equal(body.status, "revoked");
    },
  ],
};

/**
 * Runs "Calling each of the ten operations" as written and checks every step.
 * @returns {Promise<{ vars: Record<string, string>, shell: ReturnType<typeof startShell>, log: string[] }>}
 *   the ids the walkthrough used, and the shell (still open, for the devices walkthrough)
 */
export async function runOperationsWalkthrough({ gatewayUrl, emulatorUrl, log = () => {} }) {
  const shell = startShell({ gatewayUrl, emulatorUrl });
  const vars = {};
  const seen = new Set();
  try {
    const blocks = sectionBlocks("Calling each of the ten operations");
    const counts = {};
    for (const [index, block] of blocks.entries()) {
      for (const { step, text } of commandsOf(block)) {
        const { output, status } = await shell.run(text);
        assert.equal(status, 0, `README command failed (exit ${status}): ${text}\n${output}`);
        const checks = EXPECT[step];
        if (checks) {
          const n = counts[step] ?? 0;
          counts[step] = n + 1;
          const check = checks[n];
          assert.ok(check, `README step ${step} has more commands than this run knows how to check: ${text}`);
          await check(output, vars);
          seen.add(`${step}.${n}`);
          log(`step ${step}: ${oneLine(output)}`);
        }
      }
      if (index === 0) {
        // The ids the reader's shell now holds; then the moment a reader takes anyway, for the
        // sign-in's session.created webhook to reach the gateway (it drops alice's cached list):
        // arriving between the two reads of step 1, it would turn the promised HIT into a MISS.
        const probe = await shell.run('printf "%s %s %s" "$SID" "$ALICE" "$LAPTOP"');
        [vars.SID, vars.ALICE, vars.LAPTOP] = probe.output.trim().split(" ");
        assert.match(vars.SID ?? "", /^sess_/, "the setup block signed alice in");
        await webhooksDelivered(emulatorUrl);
      }
    }
    const expected = Object.entries(EXPECT).flatMap(([step, checks]) => checks.map((_, n) => `${step}.${n}`));
    assert.deepEqual(
      expected.filter((key) => !seen.has(key)),
      [],
      "README steps missing from the walkthrough",
    );
    return { vars, shell };
  } catch (error) {
    shell.close();
    throw error;
  }
}

/**
 * The devices walkthrough's shell block, as written: the iPhone's token, and the `curl` the
 * README asks to run before and after signing the iPhone out. Returns a function that runs that
 * `curl` again (the README's "Run the curl again").
 */
export async function runDevicesTokenBlock(shell) {
  const [block] = sectionBlocks("Active devices page").filter((b) => b.lines.some((l) => l.includes("PHONE_TOKEN")));
  assert.ok(block, "the devices walkthrough has a block with PHONE_TOKEN");
  const commands = commandsOf(block);
  const curl = commands.at(-1)?.text ?? "";
  assert.match(curl, /^curl .*PHONE_TOKEN/, "the block ends with the curl to run again");
  let last = "";
  for (const { text } of commands) {
    const { output, status } = await shell.run(text);
    assert.equal(status, 0, `README command failed: ${text}\n${output}`);
    last = output.trim();
  }
  assert.equal(last, "200", "the iPhone's token works before it is signed out");
  return async () => (await shell.run(curl)).output.trim();
}

/** Waits until the emulator has an answer from the gateway for every webhook it sent. */
async function webhooksDelivered(emulatorUrl, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { deliveries } = await (await fetch(`${emulatorUrl}/__emulator/webhooks`)).json();
    const pending = deliveries.filter((d) => d.delivery && d.delivery.status === null && d.delivery.error === null);
    if (pending.length === 0) {
      const failed = deliveries.filter((d) => d.delivery && d.delivery.status !== 200);
      assert.deepEqual(
        failed.map((d) => `${d.type}: ${d.delivery.status ?? d.delivery.error}`),
        [],
        "webhooks refused",
      );
      return;
    }
    assert.ok(Date.now() < deadline, `webhooks still undelivered after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const oneLine = (text) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 110 ? `${flat.slice(0, 110)}…` : flat;
};
