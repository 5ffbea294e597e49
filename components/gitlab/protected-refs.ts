// Access levels of protected branches and tags (pure helpers for BranchProtection and
// TagProtection): GitLab's role levels by @pulumi/gitlab's names, the users, groups and deploy
// keys allowed besides a role, reading them from GitLab's entries, and the update entries that
// turn the live entries into the wanted ones.

/**
 * The role levels of protected refs, named as @pulumi/gitlab names them (GitLab's
 * `ProtectedRefAccess.allowed_access_levels`: 0, 30, 40, 60). `admin` (60, "Instance admins")
 * exists on self-managed instances only; GitLab.com refuses it.
 */
export type ProtectedRefAccessLevel = "no one" | "developer" | "maintainer" | "admin";

/** GitLab's number for each level. */
export const ACCESS_LEVEL_VALUES: Readonly<Record<ProtectedRefAccessLevel, number>> = {
  "no one": 0,
  developer: 30,
  maintainer: 40,
  admin: 60,
};

/** Every role level, in the order messages list them. */
export const ACCESS_LEVELS = Object.keys(ACCESS_LEVEL_VALUES) as ProtectedRefAccessLevel[];

/** Someone allowed besides the role: exactly one of a user, a group or a deploy key. */
export interface AllowedTo {
  /** A project member's user id. */
  readonly userId?: number;
  /** The id of a group the project is shared with. */
  readonly groupId?: number;
  /** A deploy key enabled in the project with write access (pushes and tag creation only). */
  readonly deployKeyId?: number;
}

/** Which kinds of {@link AllowedTo} an action takes. */
export type AllowedKind = keyof AllowedTo;

/** One entry of GitLab's `push_access_levels`, `merge_access_levels`, `create_access_levels`…. */
export interface AccessEntry {
  readonly id: number;
  readonly access_level: number | null;
  readonly access_level_description?: string;
  readonly user_id?: number | null;
  readonly group_id?: number | null;
  readonly deploy_key_id?: number | null;
}

/** A validator of a role level among `allowed`. */
export function accessLevelIn(
  allowed: readonly ProtectedRefAccessLevel[],
): (value: unknown) => string | undefined {
  return (value) =>
    allowed.includes(value as ProtectedRefAccessLevel)
      ? undefined
      : `expected one of ${allowed.map((l) => JSON.stringify(l)).join(", ")}, got ${JSON.stringify(value)}`;
}

/** Exactly one of `kinds` per entry, each a positive whole number, no entry twice. */
export function validateAllowedTo(
  entries: unknown,
  kinds: readonly AllowedKind[],
): string | undefined {
  if (!Array.isArray(entries)) {
    return `expected a list, got ${JSON.stringify(entries)}`;
  }
  const seen: string[] = [];
  for (const [index, entry] of (entries as Record<string, unknown>[]).entries()) {
    const given = Object.keys(entry ?? {}).filter((k) => entry[k] !== undefined);
    const who = given.filter((k) => (kinds as readonly string[]).includes(k));
    if (who.length !== 1 || given.length !== 1) {
      const got = given.length === 0 ? "none" : given.join(", ");
      return `[${index}]: expected exactly one of ${kinds.join(", ")}, got ${got}`;
    }
    const [kind = ""] = who;
    const id = entry[kind];
    if (!Number.isInteger(id) || (id as number) <= 0) {
      return `[${index}]: ${kind}: expected a positive whole number, got ${JSON.stringify(id)}`;
    }
    const key = JSON.stringify({ [kind]: id });
    if (seen.includes(key)) {
      return `[${index}]: ${key} is listed twice`;
    }
    seen.push(key);
  }
  return undefined;
}

const isRole = (e: AccessEntry) =>
  (e.user_id ?? null) === null &&
  (e.group_id ?? null) === null &&
  (e.deploy_key_id ?? null) === null;

function nameOf(value: number): ProtectedRefAccessLevel {
  const found = ACCESS_LEVELS.find((l) => ACCESS_LEVEL_VALUES[l] === value);
  // A level this module does not know shows in the diff as its number.
  return found ?? (String(value) as ProtectedRefAccessLevel);
}

/**
 * The role level GitLab's entries grant, undefined without a role entry. Several role entries
 * (made in GitLab's UI, say) grant the most permissive of them, since any matching entry lets a
 * member act: Developers + Maintainers before Maintainers before admins before no one.
 */
export function roleLevel(entries: readonly AccessEntry[]): ProtectedRefAccessLevel | undefined {
  const levels = entries.filter(isRole).map((e) => e.access_level ?? 0);
  if (levels.length === 0) {
    return undefined;
  }
  const granting = levels.filter((l) => l > 0);
  return nameOf(granting.length > 0 ? Math.min(...granting) : 0);
}

/** Keeps only the one id an entry names, so equal entries compare equal. */
function canonical(a: AllowedTo): AllowedTo {
  if (a.userId !== undefined) {
    return { userId: a.userId };
  }
  return a.groupId !== undefined ? { groupId: a.groupId } : { deployKeyId: a.deployKeyId };
}

/** Canonical entries in a stable order, so a reordered list is no change. */
export function sortedAllowed(list: readonly AllowedTo[]): AllowedTo[] {
  return list.map(canonical).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

const allowedOf = (e: AccessEntry): AllowedTo =>
  (e.user_id ?? null) !== null
    ? { userId: e.user_id as number }
    : (e.group_id ?? null) !== null
      ? { groupId: e.group_id as number }
      : { deployKeyId: e.deploy_key_id as number };

/** The users, groups and deploy keys among GitLab's entries. */
export function allowedFrom(entries: readonly AccessEntry[]): AllowedTo[] {
  return sortedAllowed(entries.filter((e) => !isRole(e)).map(allowedOf));
}

/** A new entry as GitLab's create and update endpoints take it (keys snake_cased on sending). */
export function entryOf(a: AllowedTo): Record<string, number> {
  return { ...canonical(a) } as Record<string, number>;
}

/**
 * Update entries (`allowed_to_push` and friends) turning `current` into one role entry of
 * `level` plus `allowed`: `{id, _destroy: true}` for every other entry, then the missing ones.
 * Entries that stay wanted are left alone, so nothing wanted is ever briefly missing.
 */
export function accessChanges(
  current: readonly AccessEntry[],
  level: ProtectedRefAccessLevel | undefined,
  allowed: readonly AllowedTo[],
): Record<string, unknown>[] {
  const wanted = sortedAllowed(allowed).map((a) => JSON.stringify(a));
  const wantedRole = level === undefined ? undefined : ACCESS_LEVEL_VALUES[level];
  const keep = (e: AccessEntry) =>
    isRole(e)
      ? e.access_level === wantedRole
      : wanted.includes(JSON.stringify(canonical(allowedOf(e))));
  const kept = current.filter(keep);
  const hasRole = kept.some(isRole);
  const have = kept.filter((e) => !isRole(e)).map((e) => JSON.stringify(canonical(allowedOf(e))));
  return [
    ...current.filter((e) => !keep(e)).map((e) => ({ id: e.id, _destroy: true })),
    ...(wantedRole !== undefined && !hasRole ? [{ accessLevel: wantedRole }] : []),
    ...sortedAllowed(allowed)
      .filter((a) => !have.includes(JSON.stringify(a)))
      .map(entryOf),
  ];
}
