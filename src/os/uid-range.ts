/**
 * The sandbox uid range must belong to nobody else on the host. A uid that /etc/passwd names is
 * a person or a service; one inside a block of /etc/subuid is one its owner can become at will
 * (newuidmap maps it into a user namespace the owner makes), and so can read and write whatever a
 * sandbox running as that uid can: its workspace, its processes. The same holds for gids, since a
 * sandbox's gid equals its uid. Debian's useradd hands every new user a 65,536-id block from
 * SUB_UID_MIN (100000) up to SUB_UID_MAX (600100000), so the second user owns 165536–231071.
 *
 * The default range lies where nothing Debian or systemd assigns reaches: above useradd's
 * subordinate ids, above systemd-nspawn's container range (up to 1879048191), below systemd's
 * foreign range (from 2147352576) and below 2^31 (past which tools that keep ids in a signed int
 * misbehave). AIRLOCK_UIDS=FIRST+COUNT chooses another.
 */
import { readFile, stat } from 'node:fs/promises';
import { AirlockError } from '../core/errors.ts';

export interface UidRange {
  readonly first: number;
  readonly count: number;
}

export const DEFAULT_SANDBOX_UIDS: UidRange = { first: 1_900_000_000, count: 100_000 };

/** Where ids are claimed: the files useradd and groupadd write (tests point `etc` elsewhere). */
const SOURCES = ['passwd', 'group', 'subuid', 'subgid'] as const;
type Source = (typeof SOURCES)[number];

export interface Claim {
  readonly source: Source;
  readonly owner: string;
  readonly first: number;
  readonly count: number;
}

/** Every id the host's account files give to someone. A missing file claims nothing. */
export async function claimedIds(etc = '/etc'): Promise<Claim[]> {
  const claims: Claim[] = [];
  for (const source of SOURCES) {
    const text = await readFile(`${etc}/${source}`, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const f = line.split(':');
      const owner = f[0] ?? '';
      if (owner === '' || owner.startsWith('#')) continue;
      // passwd and group: name:x:ID:…; subuid and subgid: name:FIRST:COUNT.
      const [first, count] = source === 'passwd' || source === 'group' ? [Number(f[2]), 1] : [Number(f[1]), Number(f[2])];
      if (Number.isSafeInteger(first) && Number.isSafeInteger(count) && count > 0) claims.push({ source, owner, first, count });
    }
  }
  return claims;
}

/**
 * What identifies the account files' current contents (inode, size, mtime of each; useradd
 * replaces them by rename): when it changes, the range is checked again.
 */
export async function accountFilesStamp(etc = '/etc'): Promise<string> {
  const stats = await Promise.all(SOURCES.map((s) => stat(`${etc}/${s}`, { bigint: true }).then((st) => `${st.ino}:${st.size}:${st.mtimeNs}`, () => '-')));
  return stats.join(' ');
}

function overlaps(a: UidRange, b: UidRange): boolean {
  return a.first < b.first + b.count && b.first < a.first + a.count;
}

/** The lowest range of `count` ids from `from` up, below 2^31, that no claim touches. */
export function freeRange(claims: readonly Claim[], count: number, from = DEFAULT_SANDBOX_UIDS.first): UidRange | undefined {
  let first = from;
  for (const c of [...claims].sort((a, b) => a.first - b.first)) {
    if (overlaps({ first, count }, c)) first = c.first + c.count;
  }
  return first + count <= 2 ** 31 ? { first, count } : undefined;
}

/**
 * Refuses (UID_RANGE_IN_USE) a range any account file gives to someone, naming the first clash
 * and a range that is free.
 *
 * @example
 *   await checkUidRange({ first: 1_900_000_000, count: 100_000 });
 */
export async function checkUidRange(range: UidRange, etc = '/etc'): Promise<void> {
  const claims = await claimedIds(etc);
  const clash = claims.find((c) => overlaps(range, c));
  if (clash === undefined) return;
  const free = freeRange(claims, range.count, Math.max(range.first, DEFAULT_SANDBOX_UIDS.first)) ?? freeRange(claims, range.count, 100_000);
  const use = free === undefined ? 'a smaller count' : `AIRLOCK_UIDS=${free.first}+${free.count} (or the uids option)`;
  const what = clash.source === 'passwd' || clash.source === 'group' ? `gives id ${clash.first} to ${clash.owner}` : `gives ${clash.owner} ids ${clash.first}-${clash.first + clash.count - 1}, which ${clash.owner} can become`;
  throw new AirlockError('UID_RANGE_IN_USE', `the sandbox uid range ${range.first}-${range.first + range.count - 1} is not airlock's alone: ${etc}/${clash.source} ${what}; use ${use}`);
}

/**
 * The range to use: AIRLOCK_UIDS=FIRST+COUNT when set (INVALID_REQUEST when malformed), else the default.
 *
 * @example
 *   sandboxUids({ AIRLOCK_UIDS: '1900000000+1000' }) // { first: 1900000000, count: 1000 }
 */
export function sandboxUids(env: NodeJS.ProcessEnv = process.env): UidRange {
  const given = env['AIRLOCK_UIDS'];
  if (given === undefined || given === '') return DEFAULT_SANDBOX_UIDS;
  const m = /^(\d{1,10})\+(\d{1,10})$/.exec(given);
  if (m === null) throw new AirlockError('INVALID_REQUEST', `AIRLOCK_UIDS=${JSON.stringify(given)} is not FIRST+COUNT: e.g. AIRLOCK_UIDS=${DEFAULT_SANDBOX_UIDS.first}+${DEFAULT_SANDBOX_UIDS.count}`);
  return { first: Number(m[1]), count: Number(m[2]) };
}
