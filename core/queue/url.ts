/** Redis URLs as people see them. Without BullMQ, so the workstation API can use it without loading the queue. */

/** The URL without its password, for messages, status output and the workstation's settings. */
export function redactRedisUrl(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    if (!url.password) return redisUrl;
    url.password = '***';
    return url.toString();
  } catch {
    return redisUrl;
  }
}
