// The benchmarked app: node's own http server, one small fixed response per request.
//
//   node server.js --port PORT [--host ADDR]   binds the port itself (root, authbind,
//                                              setcap'd node, portbind's default mode)
//   node server.js --fd 3                      takes a listening socket by socket
//                                              activation (portbind --activate)
//
// Prints "listening" once the socket accepts connections.
'use strict';
const http = require('http');

const body = Buffer.from('hello from the benchmark\n');
const headers = {'Content-Type': 'text/plain', 'Content-Length': body.length};

function usage() {
    process.stderr.write('usage: node server.js --port PORT [--host ADDR] | --fd N\n');
    process.exit(2);
}

const args = process.argv.slice(2);
let target = null;
let host = '127.0.0.1';
for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1];
    if (value === undefined || !/^[0-9a-fA-F.:]+$/.test(value)) usage();
    if (args[i] === '--port') target = {port: Number(value)};
    else if (args[i] === '--fd') target = {fd: Number(value)};
    else if (args[i] === '--host') host = value;
    else usage();
}
if (target === null) usage();
if (target.port !== undefined) target.host = host;

const server = http.createServer((req, res) => {
    res.writeHead(200, headers);
    res.end(body);
});
server.on('error', (e) => {
    process.stderr.write(`server: ${e.message}\n`);
    process.exit(1);
});
server.listen(target, () => process.stdout.write('listening\n'));
