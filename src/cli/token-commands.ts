/**
 * API token commands, merged into extraCommands:
 *   reelflow token:create --name N --role read|operator   prints the token once
 *   reelflow token:revoke <id>
 *   reelflow token:list
 */
import { createToken, listTokens, revokeToken } from '../api/auth';
import { BadInputError, NotFoundError } from '../shared/errors';
import type { ExtraCommandContext } from './extra-commands';
import { printTable } from './format';

export const tokenCommands: Record<string, (ctx: ExtraCommandContext) => Promise<number>> = {
  async 'token:create'({ database, values, out }) {
    if (typeof values.name !== 'string') throw new BadInputError('token:create needs --name <who or what uses it>');
    if (typeof values.role !== 'string') throw new BadInputError('token:create needs --role read|operator');
    const created = await createToken(database.db, values.name, values.role);
    out(created, () =>
      console.log(
        `created ${created.role} token "${created.name}" (id ${created.tokenId}).\n` +
          `Store it now, it is not shown again:\n\n  ${created.token}\n`,
      ),
    );
    return 0;
  },

  async 'token:revoke'({ database, args, out }) {
    const id = args[0];
    if (!id) throw new BadInputError('token:revoke needs a token id (see `reelflow token:list`)');
    if (!(await revokeToken(database.db, id))) throw new NotFoundError(`no active token with id ${id}`);
    out({ revoked: id }, () => console.log(`revoked token ${id}`));
    return 0;
  },

  async 'token:list'({ database, out }) {
    const tokens = await listTokens(database.db);
    out(tokens, () =>
      printTable(
        tokens.map((t) => ({
          id: t.tokenId,
          name: t.name,
          role: t.role,
          created: t.createdAt.toISOString(),
          last_used: t.lastUsedAt?.toISOString() ?? '',
          revoked: t.revokedAt?.toISOString() ?? '',
        })),
      ),
    );
    return 0;
  },
};
