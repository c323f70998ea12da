// Socket-activated Node.js test app: serves the socket passed at fd 3 and
// answers every connection with KEY=VALUE lines (uid, gid, pid, LISTEN_*,
// selected /proc/self/status lines), then closes it.
'use strict';
const fs = require('fs');
const net = require('net');

if (process.env.LISTEN_PID !== String(process.pid)) {
  process.stderr.write(`report.js: LISTEN_PID=${process.env.LISTEN_PID} but pid is ${process.pid}\n`);
  process.exit(3);
}
if (process.env.LISTEN_FDS !== '1') {
  process.stderr.write(`report.js: expected LISTEN_FDS=1, got ${process.env.LISTEN_FDS}\n`);
  process.exit(4);
}

function report() {
  const lines = [
    `runtime=node`,
    `uid=${process.getuid()}`,
    `euid=${process.geteuid()}`,
    `gid=${process.getgid()}`,
    `egid=${process.getegid()}`,
    `groups=${process.getgroups().sort((a, b) => a - b).join(' ')}`,
    `pid=${process.pid}`,
  ];
  for (const k of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) {
    lines.push(`env.${k}=${process.env[k] === undefined ? '<unset>' : process.env[k]}`);
  }
  const wanted = new Set(['Uid', 'Gid', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs']);
  for (const line of fs.readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && wanted.has(line.slice(0, i))) {
      lines.push(`status.${line.slice(0, i)}=${line.slice(i + 1).trim().split(/\s+/).join(' ')}`);
    }
  }
  lines.push('end=1');
  return lines.join('\n') + '\n';
}

const server = net.createServer((conn) => {
  conn.on('error', () => {});
  conn.end(report());
});
server.on('error', (err) => {
  process.stderr.write(`report.js: ${err.message}\n`);
  process.exit(5);
});
server.listen({ fd: 3 });
