/**
 * Wires the HA pair (ha/) onto a proxy node (proxy/) when the configuration has an `ha`
 * section. proxy/ knows nothing of ha/: this is the one place that joins them.
 *
 * - before the node is built: learned-session tables shared through Redis (reads stay in
 *   memory), and the `keep-bound` frontends;
 * - once it runs: the election binds and unbinds the frontends, hands the node its serve
 *   gate, follows admin-state changes both ways, and feeds the stats page's HA block;
 * - at stop: the lease is released and the peer told before the node stops (SIGUSR1
 *   gracefully, SIGTERM at once).
 */
import type { ConfigModel } from "../proxy/config/model.js";
import { setNodeHooks } from "../proxy/node-main.js";
import { notice } from "../proxy/notice.js";
import { MemorySessionTable } from "../proxy/persist/session-table.js";
import type { HaStatus as PageHaStatus } from "../proxy/stats/snapshot.js";

export async function installHa(model: ConfigModel, opts: { debug?: boolean }): Promise<void> {
  const haModel = model.ha;
  if (haModel === undefined) return;
  const { createHa } = await import("../ha/node-driver.js");
  const ha = createHa(haModel, haModel.localPeer, {
    checksum: model.checksum,
    log: (line) => notice("NOTICE", line),
  });
  setNodeHooks({
    prepare: () => ({
      keepBound: haModel.keepBound,
      sessionTable: (backend) => {
        const ls = backend.learnedSession;
        if (ls === undefined) return undefined;
        const inner = new MemorySessionTable({ timeoutMs: ls.timeout });
        return ha.shared.sessionTable(backend.name, inner, ls.timeout);
      },
    }),
    start: async (node) => {
      const admin = ha.shared.adminStore((backend, server, state) => {
        try {
          node.setAdminState(backend, server, state, "remote");
        } catch (err) {
          notice(
            "WARNING",
            `ha: admin state for ${backend}/${server} from the peer ignored: ${(err as Error).message}`,
          );
        }
      });
      node.onAdminChange = (backend, server, state) => admin.set(backend, server, state);
      node.out.haStatus = (): PageHaStatus => {
        const s = ha.status();
        return {
          node: s.node,
          role: s.role,
          epoch: s.epoch,
          priority: s.priority,
          transitions: s.transitions,
          configChecksum: model.checksum,
          reason: s.lastReason,
          ...(s.peer
            ? {
                peer: {
                  name: s.peer.name,
                  role: s.peer.role ?? "UNKNOWN",
                  ...(s.peer.advertAge !== undefined ? { lastAdvertMs: s.peer.advertAge } : {}),
                  ...(s.peer.checksum !== undefined ? { configChecksum: s.peer.checksum } : {}),
                },
              }
            : {}),
        };
      };
      await ha.start({
        bindFrontends: () => node.bindFrontends(),
        unbindFrontends: () => node.unbindFrontends(),
        setServeGate: (gate) => node.setServeGate(gate),
      });
      if (opts.debug) notice("NOTICE", `ha: ${haModel.name}: this node is ${haModel.localPeer}`);
      return {
        stop: async (graceful) => {
          await ha.stop(graceful ? "graceful" : "fast");
          if (graceful) await node.softStop();
          else await node.stop();
        },
      };
    },
  });
}
