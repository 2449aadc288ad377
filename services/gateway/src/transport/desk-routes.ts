import type express from 'express';
import * as http from '@parley/contracts/http';
import { parse, route } from './routes.ts';
import type { RouteDeps } from './visitor-routes.ts';

/**
 * The desk's opening hours (admins edit them in the console) and what the widget learns from
 * them before the visitor writes: open, closed or nobody online. The widget's read needs no token
 * and writes nothing (no visitor, chat or session is created by asking).
 */
export function deskRoutes(api: express.Router, deps: RouteDeps): void {
  const { rpc, guards } = deps;

  route(api, http.visitorRoutes.widgetConfig, async (req, res) => {
    const response: http.WidgetConfigResponse = {
      availability: await rpc('routing.rpc.availability', {}),
    };
    res.json(response);
  });

  route(api, http.consoleRoutes.businessHours, guards.admins, async (req, res) => {
    res.json(await rpc('routing.rpc.business_hours', {}));
  });

  route(api, http.consoleRoutes.setBusinessHours, guards.admins, async (req, res) => {
    const hours = parse(http.BusinessHoursBody, req.body, 'body');
    res.json(await rpc('routing.rpc.set_business_hours', { hours }));
  });
}
