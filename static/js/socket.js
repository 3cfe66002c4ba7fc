// Live channel to the dialer (/dialer) and the wallboard (/wallboard), over the vendored
// socket.io client. The server reads the HttpOnly access_token cookie at connect, so the page
// never sees the token; an expired token is renewed by api.js's silent refresh, then we retry.
import { io } from '/static/vendor/socket.io/socket.io.esm.min.js';
import { api } from './api.js';

const AUTH_CODES = new Set(['unauthorized', 'token_expired', 'invalid_token', 'token_revoked']);

/**
 * connectLive('/dialer', {call_state: fn, ...}, onStatus) -> {call(event, data), socket}
 * onStatus(status) gets 'connecting' | 'connected' | 'reconnecting' | 'refused'.
 */
export function connectLive(namespace, handlers, onStatus = () => {}) {
  // websocket only: sticky sessions stay simple behind a load balancer, and polling would
  // add a request per event for a console open eight hours a day
  const socket = io(namespace, {
    transports: ['websocket'],
    withCredentials: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  onStatus('connecting');
  socket.on('connect', () => onStatus('connected'));
  socket.on('disconnect', (reason) => {
    onStatus('reconnecting');
    // the server closed us on purpose (e.g. logged out elsewhere): socket.io does not retry
    if (reason === 'io server disconnect') socket.connect();
  });
  socket.io.on('reconnect_attempt', () => onStatus('reconnecting'));
  socket.on('connect_error', async (err) => {
    const code = err && err.data && err.data.code;
    if (!AUTH_CODES.has(code)) {
      onStatus(code ? 'refused' : 'reconnecting');
      return; // the manager retries network errors by itself; a refusal (forbidden) is final
    }
    try {
      await api.get('me'); // a 401 here refreshes the cookie (or sends the user to /login)
      socket.connect();
    } catch (_) {
      onStatus('refused');
    }
  });
  for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);

  /** Emit with an ack; resolves to the server's answer or {ok:false, code:'timeout'}. */
  async function call(event, data = {}, timeoutMs = 10000) {
    try {
      return await socket.timeout(timeoutMs).emitWithAck(event, data);
    } catch (_) {
      return { ok: false, code: 'timeout' };
    }
  }
  return { socket, call };
}
