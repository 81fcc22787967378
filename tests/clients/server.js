// Starts a real pipestack binary on an ephemeral port with an in-memory store.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const BIN = process.env.PIPESTACK_BIN || path.join(__dirname, '..', '..', 'target', 'debug', 'pipestack');
const TOKEN = 'sdk-test-token-0001';

/// The store: in memory, or (with PIPESTACK_TEST_DATABASE=postgres://…) a fresh PostgreSQL
/// database per server, created with psql.
function storeArgs() {
  const base = process.env.PIPESTACK_TEST_DATABASE;
  if (!base || !base.startsWith('postgres')) {
    return ['serve', '--memory'];
  }
  const name = `pipestack_test_${Math.random().toString(16).slice(2, 14)}`;
  execFileSync('psql', [base, '-qc', `CREATE DATABASE ${name}`]);
  const url = base.slice(0, base.lastIndexOf('/') + 1) + name;
  return ['--database', url, 'serve'];
}

async function startServer(extraArgs = []) {
  const child = spawn(BIN, [...storeArgs(), '--listen', '127.0.0.1:0', '--api-token', TOKEN, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PIPESTACK_LOG: 'warn' },
  });
  const lines = readline.createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('pipestack did not start in 10 s')), 10000);
    child.once('exit', (code) => reject(new Error(`pipestack exited with ${code}`)));
    lines.on('line', (line) => {
      const m = line.match(/base URL: (http:\/\/[^ ]+)\/v1/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return {
    base,
    token: TOKEN,
    stop: () => new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}

module.exports = { startServer };
