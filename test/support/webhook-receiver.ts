/**
 * A webhook receiver as a subscriber would run one: a plain node HTTP server that verifies every delivery
 * with the official `standardwebhooks` package (`Webhook.verify`), so the check is code outside Sigill's.
 * Each secret it knows is tried on its own, so a test sees which secrets signed a delivery (both during a
 * rotation's overlap). How it answers is up to the test (`respond`), per message id and attempt.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Json } from './api-client';

export interface ReceivedDelivery {
  messageId: string;
  /** Which attempt at this message id this is, as the receiver counts them (1 = first seen). */
  seen: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  payload: Json;
  /** The secrets (by index in `secrets`) whose `Webhook.verify` accepted the delivery. */
  verifiedBy: number[];
  /** What the receiver answered (undefined while it holds the request open). */
  answered?: number;
}

export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Never answer (a test kills the sender meanwhile); the socket stays open until the receiver closes. */
  hold?: boolean;
}

export type Respond = (delivery: ReceivedDelivery) => ReceiverAnswer | number;

export async function startWebhookReceiver(options: { respond?: Respond } = {}) {
  const secrets: string[] = [];
  const deliveries: ReceivedDelivery[] = [];
  const seenCount = new Map<string, number>();
  let connections = 0;
  let respond = options.respond ?? (() => 200);
  const held: Array<{ response: http.ServerResponse; delivery: ReceivedDelivery }> = [];

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const messageId = String(request.headers['webhook-id'] ?? '');
      const seen = (seenCount.get(messageId) ?? 0) + 1;
      seenCount.set(messageId, seen);
      const verifiedBy = secrets.flatMap((secret, index) => {
        try {
          new Webhook(secret).verify(body, request.headers as Record<string, string>);
          return [index];
        } catch {
          return [];
        }
      });
      let payload: Json;
      try {
        payload = JSON.parse(body);
      } catch {
        payload = undefined;
      }
      const delivery: ReceivedDelivery = { messageId, seen, headers: request.headers, body, payload, verifiedBy };
      deliveries.push(delivery);
      const answer = respond(delivery);
      const { status, headers, hold } = typeof answer === 'number' ? { status: answer, headers: undefined, hold: false } : answer;
      if (hold) {
        held.push({ response, delivery });
        return;
      }
      delivery.answered = status;
      response.writeHead(status, { 'content-type': 'text/plain', ...headers });
      response.end(status < 300 ? 'ok' : 'no');
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    /** Secrets to verify with, in the order added (a rotation adds the new one). */
    trust(secret: string) {
      secrets.push(secret);
      return secrets.length - 1;
    },
    respondWith(next: Respond) {
      respond = next;
    },
    deliveries,
    /** Deliveries of one type, verified or not. */
    ofType: (type: string) => deliveries.filter((delivery) => delivery.payload?.type === type),
    /** How many deliveries of the message the receiver accepted (answered 2xx). */
    acceptedCount: (messageId: string) => deliveries.filter((d) => d.messageId === messageId && d.answered !== undefined && d.answered < 300).length,
    connections: () => connections,
    /** Answers every request held open so far with `status`. */
    release(status: number) {
      for (const { response, delivery } of held.splice(0)) {
        delivery.answered = status;
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end(status < 300 ? 'ok' : 'no');
      }
    },
    async close() {
      for (const { response } of held) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
