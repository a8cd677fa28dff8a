/**
 * `airlock gateway --config FILE`: upstream MCP servers behind policy (src/mcp/gateway.ts), served
 * to the agent over stdio. The config (src/mcp/gateway-config.ts) declares which upstream tools
 * exist downstream and what each does; the policy it names grants them. Ends when stdin closes,
 * or on SIGTERM / SIGINT.
 *
 * @example
 *   // airlock gateway --config gateway.json
 */
import { Command } from 'commander';
import { AirlockError } from '../core/errors.ts';
import { policyFromFlags } from './run-input.ts';
import { readBounded } from './read-bounded.ts';

const CONFIG_BYTES = 1024 * 1024;

export function gatewayCommand(): Command {
  return new Command('gateway')
    .description('serve upstream MCP servers through airlock: only the tools the config declares and the policy grants, each call authorized and audited')
    .requiredOption('--config <file>', 'gateway config JSON (upstreams, their declared tools, the policy)')
    .action(async (flags: { readonly config: string }) => {
      // Loaded when serving MCP only: the other commands start without the MCP stack.
      const { gatewayConfigFromText, inlinePolicy, policyPath } = await import('../mcp/gateway-config.ts');
      let text: string;
      try {
        text = readBounded(flags.config, CONFIG_BYTES, { code: 'INVALID_REQUEST', message: `the gateway config ${flags.config} is over 1 MiB` }).toString('utf8');
      } catch (error) {
        if (error instanceof AirlockError) throw error;
        throw new AirlockError('INVALID_REQUEST', `can't read the gateway config ${flags.config}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
      const config = gatewayConfigFromText(text, flags.config);
      const path = policyPath(config, flags.config);
      const policy = path === null ? (inlinePolicy(config) ?? { version: 1 }) : policyFromFlags({ policy: path, allowNet: [] });
      const { startGateway } = await import('../mcp/gateway.ts');
      const { StdioServerTransport } = await import('@modelcontextprotocol/server/stdio');
      const gateway = await startGateway({ config, policy, tenant: config.tenant ?? 'default', airlock: {} });
      const transport = new StdioServerTransport();
      const ended = new Promise<string>((resolve) => {
        gateway.server.onclose = () => resolve('the client closed the connection');
        process.stdin.once('end', () => void transport.close());
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      await gateway.server.connect(transport);
      process.stderr.write('airlock gateway: serving on stdio\n');
      process.stderr.write(`airlock gateway: ${await ended}: closing\n`);
      await gateway.close();
    });
}
