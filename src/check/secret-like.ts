/**
 * What looks like a secret: environment names and values, and host paths where credentials live.
 * Heuristics, biased towards "yes": a false alarm costs a second look; a miss costs a credential.
 */

const SECRET_NAME = /(secret|token|passw(or)?d|passwd|^pass$|_pass$|api_?key|access_?key|private|credential|auth|session|cookie|(^|_)key$|^pgpassword$|dsn$|connection_?string)/i;

/** Prefixes of well-known credential formats. */
const SECRET_VALUE = [
  /^gh[pousr]_[A-Za-z0-9]{20,}/, // GitHub tokens
  /^github_pat_/,
  /^glpat-/, // GitLab
  /^sk-[A-Za-z0-9_-]{16,}/, // OpenAI / Anthropic style
  /^sk_(live|test)_/, // Stripe
  /^xox[abprs]-/, // Slack
  /^AKIA[0-9A-Z]{16}$/, // AWS access key id
  /^AIza[0-9A-Za-z_-]{20,}/, // Google API key
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./, // a JWT
  /:\/\/[^/\s:@]+:[^/\s@]+@/, // a URL with a password in it
];

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Why an environment variable looks like a credential, or null when it does not. */
export function secretLikeEnv(name: string, value: string): string | null {
  if (SECRET_NAME.test(name)) return `its name ${name} is a credential's name`;
  const known = SECRET_VALUE.find((re) => re.test(value));
  if (known !== undefined) return `its value has the shape of a credential (${known.source.slice(0, 24)}…)`;
  if (value.length >= 24 && /^[A-Za-z0-9+/=_-]+$/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value) && entropy(value) >= 4) {
    return 'its value is a long random-looking string';
  }
  return null;
}

/** Path fragments of places credentials live on a host. */
const SECRET_PATHS = [
  /^\/etc\/(g?shadow|sudoers)/,
  /^\/etc\/ssl\/private/,
  /^\/root(\/|$)/,
  /^\/home(\/|$)/,
  /^\/(var\/)?run\/secrets(\/|$)/,
  /\/\.(ssh|aws|gnupg|kube|docker|azure|netrc|npmrc|pypirc|git-credentials|pgpass)(\/|$)/,
  /\/\.config\/(gcloud|gh)(\/|$)/,
  /(^|\/)(id_rsa|id_ed25519|id_ecdsa|credentials|\.env|secrets?\.(json|ya?ml|txt))$/,
  /\.(pem|key|p12|pfx|kdbx)$/,
];

/** True when `path` is, or holds, a place where credentials usually live. */
export function secretLikePath(path: string): boolean {
  return SECRET_PATHS.some((re) => re.test(path));
}

/** A value shown in a report: its first characters and its length, never the whole thing. */
export function redact(value: string): string {
  return value.length <= 4 ? '…' : `${value.slice(0, 4)}…(${value.length} chars)`;
}
