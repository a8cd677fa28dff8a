/**
 * The container tier's half of egress: what runs inside a sandbox whose network namespace is empty.
 * The host's gateway socket (EgressGateway.socketFor) is bind-mounted in; socat, an audited Debian
 * tool, listens on the sandbox's own loopback and relays each connection to that socket. The
 * guest's HTTP_PROXY/HTTPS_PROXY point at the listener. There is no route and no resolver in the
 * namespace, so the proxy is the only way out, and DNS can't carry data.
 *
 * socat forks one process per open connection: each counts against the sandbox's pids limit.
 */

/** Where the socket appears inside the sandbox. */
export const SANDBOX_SOCKET = '/run/airlock/egress.sock';
export const FORWARDER_PORT = 3128;
const SOCAT = '/usr/bin/socat';

/** A read-only bind in the container launcher's Mount shape (src/container/mounts.ts). */
export interface SocketBind {
  readonly type: 'bind';
  readonly source: string;
  readonly destination: string;
  readonly options: readonly ['ro'];
}

export interface ForwarderPlan {
  /** Bind the host socket into the sandbox (read-only binds still connect: connect(2) needs no write to the mount). */
  readonly binds: readonly SocketBind[];
  /** Proxy settings for curl, pip, python, node (with NODE_USE_ENV_PROXY) and most other clients. */
  readonly env: Readonly<Record<string, string>>;
  /** argv of the forwarder, run inside the sandbox beside the command. */
  readonly sidecarArgv: readonly string[];
  /**
   * argv to put in front of the guest's argv: waits (bounded, about 5 s) until the forwarder
   * listens, without connecting to it, so the guest's first request can't race the sidecar.
   */
  readonly waitArgv: readonly string[];
}

/**
 * The binds, environment and sidecar for one sandbox's socket.
 *
 * @example
 *   const sock = await gateway.socketFor(ctx);
 *   const plan = forwarderPlan({ socketPath: sock.path });
 *   launch({ extraBinds: plan.binds, env: plan.env, sidecar: plan.sidecarArgv, argv: [...plan.waitArgv, 'python3', 'main.py'] });
 */
export function forwarderPlan(options: { readonly socketPath: string; readonly port?: number }): ForwarderPlan {
  const port = options.port ?? FORWARDER_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`forwarder port ${port} is not 1–65535`);
  const proxy = `http://127.0.0.1:${port}`;
  // /proc/net/tcp lists 127.0.0.1:PORT as 0100007F:XXXX; state 0A is LISTEN.
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const wait =
    `i=0; while ! grep -q ' 0100007F:${hex} 00000000:0000 0A ' /proc/net/tcp; do ` +
    `i=$((i+1)); if [ $i -gt 500 ]; then echo 'airlock: the egress forwarder did not start' >&2; exit 69; fi; sleep 0.01; done; exec "$@"`;
  return {
    binds: [{ type: 'bind', source: options.socketPath, destination: SANDBOX_SOCKET, options: ['ro'] }],
    env: {
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      http_proxy: proxy,
      https_proxy: proxy,
      ALL_PROXY: proxy,
      all_proxy: proxy,
      NO_PROXY: '',
      no_proxy: '',
      NODE_USE_ENV_PROXY: '1',
    },
    sidecarArgv: [SOCAT, `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,max-children=64`, `UNIX-CONNECT:${SANDBOX_SOCKET}`],
    waitArgv: ['/bin/sh', '-c', wait, 'airlock-wait'],
  };
}
