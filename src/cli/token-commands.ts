/**
 * API token commands, merged into extraCommands:
 *   reelflow token create --name N --role read|operator [--expires-in 30d]   prints the token once
 *   reelflow token revoke <id>
 *   reelflow token list
 * (`token:create`, `token:revoke`, `token:list` are the same commands.)
 */
import { createToken, listTokens, parseDuration, revokeToken } from '../api/auth';
import { BadInputError, NotFoundError } from '../shared/errors';
import type { ExtraCommandContext } from './extra-commands';
import { printTable } from './format';

type TokenCommand = (ctx: ExtraCommandContext) => Promise<number>;

const create: TokenCommand = async ({ database, values, out }) => {
  if (typeof values.name !== 'string') throw new BadInputError('token create needs --name <who or what uses it>');
  if (typeof values.role !== 'string') throw new BadInputError('token create needs --role read|operator');
  const expiresIn = values['expires-in'];
  const expiresInMs = typeof expiresIn === 'string' ? parseDuration(expiresIn, '--expires-in') : undefined;
  const created = await createToken(database.db, values.name, values.role, { expiresInMs });
  out(created, () =>
    console.log(
      `created ${created.role} token "${created.name}" (id ${created.tokenId}), ` +
        `${created.expiresAt ? `expires ${created.expiresAt.toISOString()}` : 'valid until revoked'}.\n` +
        `Store it now, it is not shown again:\n\n  ${created.token}\n`,
    ),
  );
  return 0;
};

const revoke: TokenCommand = async ({ database, args, out }) => {
  const id = args[0];
  if (!id) throw new BadInputError('token revoke needs a token id (see `reelflow token list`)');
  if (!(await revokeToken(database.db, id))) throw new NotFoundError(`no active token with id ${id}`);
  out({ revoked: id }, () => console.log(`revoked token ${id}`));
  return 0;
};

const list: TokenCommand = async ({ database, out }) => {
  const tokens = await listTokens(database.db);
  const now = Date.now();
  out(tokens, () =>
    printTable(
      tokens.map((t) => ({
        id: t.tokenId,
        name: t.name,
        role: t.role,
        created: t.createdAt.toISOString(),
        expires: t.expiresAt ? `${t.expiresAt.toISOString()}${t.expiresAt.getTime() <= now ? ' (expired)' : ''}` : 'never',
        last_used: t.lastUsedAt?.toISOString() ?? '',
        revoked: t.revokedAt?.toISOString() ?? '',
      })),
    ),
  );
  return 0;
};

const SUBCOMMANDS: Record<string, TokenCommand> = { create, revoke, list };

export const tokenCommands: Record<string, TokenCommand> = {
  async token(ctx) {
    const [sub, ...rest] = ctx.args;
    const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (!run || !Object.hasOwn(SUBCOMMANDS, sub!)) throw new BadInputError('token needs: create | revoke <id> | list');
    return run({ ...ctx, args: rest });
  },
  'token:create': create,
  'token:revoke': revoke,
  'token:list': list,
};
