/**
 * The floor: a bare WebSocket relay on `ws` alone. No auth, no validation, no NATS, no
 * persistence. Connections join a room named by `?chat=<id>`; every text frame is forwarded
 * as-is to the other members of that room. The load generator speaks to it with the same
 * frames it sends to Parley, so the difference in the numbers is what Parley adds.
 *
 * Run alone: `node bench/baseline/relay.ts` (env HTTP_PORT, default 8079). Prints
 * `listening <port>` on stdout once it accepts connections.
 */
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.HTTP_PORT ?? 8079);
const rooms = new Map<string, Set<WebSocket>>();

const server = http.createServer((_req, res) => {
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on('connection', (socket, req) => {
  const chat = new URL(req.url ?? '/', 'http://relay').searchParams.get('chat') ?? '';
  let room = rooms.get(chat);
  if (!room) {
    room = new Set();
    rooms.set(chat, room);
  }
  room.add(socket);
  socket.on('message', (data, isBinary) => {
    for (const peer of room) {
      if (peer !== socket && peer.readyState === peer.OPEN) peer.send(data, { binary: isBinary });
    }
  });
  socket.on('close', () => {
    room.delete(socket);
    if (room.size === 0) rooms.delete(chat);
  });
  socket.on('error', () => socket.terminate());
});

server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : port}\n`);
});

const shutdown = () => {
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
