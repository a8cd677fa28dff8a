/** Tenant ids go into paths, cgroup names and SQL: a small alphabet keeps them inert. */
export const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
