/** Now as an ISO 8601 string, the way every date travels. */
export const nowIso = (): string => new Date().toISOString();
