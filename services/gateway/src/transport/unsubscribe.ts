/**
 * The email's unsubscribe link. GET (and HEAD) only show a confirmation page, so a mail scanner
 * that prefetches links changes nothing; POST to the same URL unsubscribes. The POST is also
 * RFC 8058 one-click unsubscribe: mail clients send `List-Unsubscribe=One-Click` there without
 * a page, as announced by the email's `List-Unsubscribe-Post` header.
 */
import express, { type Request, type Response } from 'express';
import { UserId } from '@parley/contracts/models';
import * as http from '@parley/contracts/http';
import { verifyUnsubscribeToken } from '@parley/runtime';
import type { Rpc } from '../adapters/chat-nats.ts';
import { route } from './routes.ts';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, form = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1f2937}button{font:inherit;padding:.5rem 1rem;border-radius:.375rem;border:0;background:#1d4ed8;color:#fff;cursor:pointer}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p>${form}</body></html>`;
}

const invalidPage = page(
  'Link not valid',
  'This unsubscribe link is invalid. Open the newest email and try its link.',
);

export function unsubscribeRoutes(
  api: express.Router,
  deps: { cfg: { unsubscribeSecret: string }; rpc: Rpc },
): void {
  async function userOf(req: Request): Promise<UserId | null> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = typeof req.query.token === 'string' ? req.query.token : body.token;
    if (typeof token !== 'string') return null;
    const parsed = UserId.safeParse(
      await verifyUnsubscribeToken(deps.cfg.unsubscribeSecret, token),
    );
    return parsed.success ? parsed.data : null;
  }

  const noStore = (res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    );
    res.setHeader('Referrer-Policy', 'no-referrer');
  };

  // Express answers HEAD with this handler too: it only reads.
  route(api, http.visitorRoutes.unsubscribe, async (req, res) => {
    noStore(res);
    if (!(await userOf(req))) return void res.status(400).type('html').send(invalidPage);
    res
      .type('html')
      .send(
        page(
          'Unsubscribe from reply emails?',
          'You will no longer receive an email when the support team replies to your chat and you have not read it yet.',
          '<form method="post" action=""><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>',
        ),
      );
  });

  route(
    api,
    http.visitorRoutes.unsubscribeOneClick,
    express.urlencoded({ extended: false, limit: '4kb' }),
    async (req, res) => {
      noStore(res);
      const userId = await userOf(req);
      if (!userId) return void res.status(400).type('html').send(invalidPage);
      await deps.rpc('chat.rpc.unsubscribe', { user_id: userId });
      res
        .type('html')
        .send(
          page(
            'Unsubscribed',
            'You will no longer receive email notifications about replies to your chat.',
          ),
        );
    },
  );
}
