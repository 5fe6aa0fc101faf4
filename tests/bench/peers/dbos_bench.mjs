// DBOS Transact (TypeScript SDK 5.3) side of the peer benchmark; run.sh drives it.
//   node dbos_bench.mjs --modules DIR --url URL [--chain-steps 1000] [--workflows 1000] [--workflow-steps 10]
// DIR is the folder npm installed @dbos-inc/dbos-sdk into (the SDK is not a dependency of the
// repository). URL is the system database, e.g.
//   postgresql://root@localhost/dbos_bench?host=/tmp/keepflow-peers.x/pg/socket
// (DBOS insists on a user name and a host name in the URL; node-postgres then takes the socket
// folder from `host=`). After one warm-up workflow of 10 steps (ID peers-warmup, not counted),
// prints one line per workload:
//   dbos: WORKLOAD steps=N seconds=S steps_per_s=R
// and exits non-zero, naming what failed, when something does.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

function parseArgs(argv) {
  const opts = { chainSteps: 1000, workflows: 1000, workflowSteps: 10 };
  const names = {
    '--modules': 'modules', '--url': 'url', '--chain-steps': 'chainSteps',
    '--workflows': 'workflows', '--workflow-steps': 'workflowSteps',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`bad argument ${JSON.stringify(argv[i])}`);
    opts[key] = argv[i + 1];
  }
  if (!opts.modules || !opts.url) throw new Error('--modules DIR and --url URL are required');
  for (const k of ['chainSteps', 'workflows', 'workflowSteps']) {
    opts[k] = Number(opts[k]);
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new Error(`${k} must be a positive integer`);
  }
  return opts;
}

function report(workload, steps, seconds) {
  const rate = steps / seconds;
  console.log(`dbos: ${workload} steps=${steps} seconds=${seconds.toFixed(3)} steps_per_s=${rate.toFixed(1)}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // Resolve the SDK from the folder npm installed it into, not from this file's folder.
  const require = createRequire(path.join(path.resolve(opts.modules), 'package.json'));
  const sdk = await import(pathToFileURL(require.resolve('@dbos-inc/dbos-sdk')).href);
  const DBOS = sdk.DBOS ?? sdk.default?.DBOS;
  if (!DBOS) throw new Error('@dbos-inc/dbos-sdk exports no DBOS class');

  // A trivial durable step: its result is checkpointed in the system database before the
  // workflow goes on (one row in dbos.operation_outputs per step).
  const noop = DBOS.registerStep(async (i) => i, { name: 'noop' });
  const chain = DBOS.registerWorkflow(
    async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await noop(i);
      return sum;
    },
    { name: 'chain' },
  );

  DBOS.setConfig({
    name: 'keepflow-peers',
    systemDatabaseUrl: opts.url,
    logLevel: 'warn',
  });
  await DBOS.launch();
  const expected = (n) => (n * (n - 1)) / 2;
  try {
    // Warm-up, not counted: one short workflow under a fixed ID, so the first timed step does not
    // pay for connecting and compiling (run.sh leaves its checkpoints out of its count).
    const warm = await DBOS.startWorkflow(chain, { workflowID: 'peers-warmup' })(10);
    if ((await warm.getResult()) !== expected(10)) throw new Error('the warm-up workflow returned a wrong result');

    // (a) one workflow of chainSteps sequential steps.
    let t0 = performance.now();
    const sum = await chain(opts.chainSteps);
    let seconds = (performance.now() - t0) / 1000;
    if (sum !== expected(opts.chainSteps)) throw new Error(`chain returned ${sum}, expected ${expected(opts.chainSteps)}`);
    report(`1x${opts.chainSteps}`, opts.chainSteps, seconds);

    // (b) `workflows` workflows of workflowSteps steps, all started at once, then every result awaited.
    t0 = performance.now();
    const handles = [];
    for (let w = 0; w < opts.workflows; w++) handles.push(await DBOS.startWorkflow(chain)(opts.workflowSteps));
    const results = await Promise.all(handles.map((h) => h.getResult()));
    seconds = (performance.now() - t0) / 1000;
    const wrong = results.filter((r) => r !== expected(opts.workflowSteps)).length;
    if (wrong) throw new Error(`${wrong} of ${opts.workflows} workflows returned a wrong result`);
    report(`${opts.workflows}x${opts.workflowSteps}`, opts.workflows * opts.workflowSteps, seconds);
  } finally {
    await DBOS.shutdown();
  }
}

main().catch((e) => {
  console.error(`dbos_bench: ${e?.stack ?? e}`);
  process.exit(1);
});
