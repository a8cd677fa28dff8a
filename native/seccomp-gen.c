/*
 * seccomp-gen: compiles a small line-based seccomp profile (stdin) into a classic BPF program
 * (stdout) with libseccomp, for `bwrap --seccomp FD`. The BPF is never assembled by hand.
 *
 * Profile grammar (one statement per line; '#' starts a comment line; blank lines ignored):
 *   default errno ERRNO | default kill        first statement, exactly once
 *   allow SYSCALL [if COND [and COND]...]
 *   errno SYSCALL ERRNO [if COND [and COND]...]
 *   skip SYSCALL [if COND [and COND]...]      not run; returns 0 (SCMP_ACT_ERRNO(0))
 *   kill SYSCALL [if COND [and COND]...]
 *   COND := argN OP VALUE | argN masked_eq MASK VALUE    (N in 0..5; OP: eq ne lt le gt ge)
 * Rules for one syscall are OR-ed; the conditions of one rule are AND-ed.
 * Every syscall gets ONE action, and either one unconditional rule or only conditional ones:
 * libseccomp silently drops conditional rules beside an unconditional rule of another action,
 * and picks between overlapping conditional rules of different actions by insertion order
 * (checked here: `errno ioctl .. if arg1 masked_eq ..` beside `allow ioctl` let TIOCSTI through).
 * With one action per syscall the meaning is exactly "any rule matches → action, else default".
 *
 * The filter is for x86_64 only: any other audit arch (i386 via int 0x80) is killed by
 * SCMP_FLTATR_ACT_BADARCH, and libseccomp's x86_64 filter sends x32 syscall numbers
 * (bit 30 set) to that same action because x32 is not in the filter.
 * Any error (unknown syscall, bad number, libseccomp failure) exits 1 with a message on stderr
 * and writes nothing useful: the caller must treat a non-zero exit as "no filter".
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINE 512
#define MAX_WORDS 40
#define MAX_CONDS 6
#define MAX_NR 1024

/* What has been added per syscall number, to refuse ambiguous combinations (see above). */
struct seen { uint32_t action; unsigned char any, unconditional, conditional; };
static struct seen seen[MAX_NR];

static int line_no;
static uint32_t default_action;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "seccomp-gen: line %d: %s%s%s\n", line_no, what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void die_rc(const char *what, int rc) {
  fprintf(stderr, "seccomp-gen: line %d: %s: %s\n", line_no, what, strerror(-rc));
  exit(1);
}

/* Only the errnos a profile has a reason to return; anything else is a typo. */
static int parse_errno(const char *name) {
  static const struct { const char *name; int value; } table[] = {
    {"EPERM", EPERM}, {"ENOSYS", ENOSYS}, {"EACCES", EACCES}, {"EINVAL", EINVAL},
    {"EAFNOSUPPORT", EAFNOSUPPORT}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOTTY", ENOTTY},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(name, table[i].name) == 0) return table[i].value;
  die("unknown errno name (use EPERM, ENOSYS, EACCES, EINVAL, EAFNOSUPPORT, EOPNOTSUPP, ENOTTY)", name);
  return -1;
}

/* Unsigned decimal or 0x-hex, the whole word, no sign, no overflow. */
static scmp_datum_t parse_value(const char *word) {
  if (word[0] < '0' || word[0] > '9') die("expected an unsigned number", word);
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(word, &end, 0);
  if (errno != 0 || end == word || *end != '\0') die("bad number", word);
  return (scmp_datum_t)v;
}

static enum scmp_compare parse_op(const char *word) {
  if (strcmp(word, "eq") == 0) return SCMP_CMP_EQ;
  if (strcmp(word, "ne") == 0) return SCMP_CMP_NE;
  if (strcmp(word, "lt") == 0) return SCMP_CMP_LT;
  if (strcmp(word, "le") == 0) return SCMP_CMP_LE;
  if (strcmp(word, "gt") == 0) return SCMP_CMP_GT;
  if (strcmp(word, "ge") == 0) return SCMP_CMP_GE;
  if (strcmp(word, "masked_eq") == 0) return SCMP_CMP_MASKED_EQ;
  die("unknown comparison (use eq, ne, lt, le, gt, ge, masked_eq)", word);
  return _SCMP_CMP_MIN;
}

/* Parses "argN OP VALUE" or "argN masked_eq MASK VALUE" at words[*i]; advances *i. */
static struct scmp_arg_cmp parse_cond(char **words, int n, int *i) {
  if (*i + 3 > n) die("incomplete condition", NULL);
  const char *arg = words[*i];
  if (strncmp(arg, "arg", 3) != 0 || arg[3] < '0' || arg[3] > '5' || arg[4] != '\0')
    die("expected arg0..arg5", arg);
  struct scmp_arg_cmp c = {.arg = (unsigned int)(arg[3] - '0'), .op = parse_op(words[*i + 1])};
  if (c.op == SCMP_CMP_MASKED_EQ) {
    if (*i + 4 > n) die("masked_eq needs MASK and VALUE", NULL);
    c.datum_a = parse_value(words[*i + 2]);
    c.datum_b = parse_value(words[*i + 3]);
    *i += 4;
  } else {
    c.datum_a = parse_value(words[*i + 2]);
    c.datum_b = 0;
    *i += 3;
  }
  return c;
}

static int resolve_syscall(const char *name) {
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
  /* __NR_SCMP_ERROR for unknown names; other negatives are pseudo-numbers of syscalls that
   * exist on other arches only. Both mean the profile is wrong for this filter. */
  if (nr < 0) die("not an x86_64 syscall name", name);
  return nr;
}

static void add_rule(scmp_filter_ctx ctx, uint32_t action, char **words, int n, int i) {
  int nr = resolve_syscall(words[1]);
  struct scmp_arg_cmp conds[MAX_CONDS];
  unsigned int count = 0;
  if (i < n) {
    if (strcmp(words[i], "if") != 0) die("expected 'if' or end of line", words[i]);
    i++;
    for (;;) {
      if (count == MAX_CONDS) die("too many conditions", NULL);
      conds[count++] = parse_cond(words, n, &i);
      if (i == n) break;
      if (strcmp(words[i], "and") != 0) die("expected 'and' or end of line", words[i]);
      i++;
    }
  }
  if (nr >= MAX_NR) die("syscall number out of range", words[1]);
  if (action == default_action) die("the rule's action is the default action (drop the rule)", words[1]);
  struct seen *s = &seen[nr];
  if (s->any && s->action != action) die("a second action for this syscall (give each syscall one action)", words[1]);
  if (s->unconditional || (count == 0 && s->conditional))
    die("an unconditional rule beside other rules for this syscall (libseccomp would drop the others)", words[1]);
  s->any = 1;
  s->action = action;
  if (count == 0) s->unconditional = 1;
  else s->conditional = 1;
  /* _exact: libseccomp must not rewrite the rule; if it cannot be expressed as given, fail. */
  int rc = seccomp_rule_add_exact_array(ctx, action, nr, count, conds);
  if (rc != 0) die_rc(words[1], rc);
}

static int split(char *line, char **words) {
  int n = 0;
  for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
    if (n == MAX_WORDS) die("line has too many words", NULL);
    words[n++] = w;
  }
  return n;
}

static scmp_filter_ctx start(char **words, int n) {
  uint32_t def;
  if (n == 2 && strcmp(words[0], "default") == 0 && strcmp(words[1], "kill") == 0)
    def = SCMP_ACT_KILL_PROCESS;
  else if (n == 3 && strcmp(words[0], "default") == 0 && strcmp(words[1], "errno") == 0)
    def = SCMP_ACT_ERRNO((uint32_t)parse_errno(words[2]));
  else
    die("the first statement must be 'default errno ERRNO' or 'default kill'", NULL);
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) die("this generator only builds x86_64 filters", NULL);
  default_action = def;
  scmp_filter_ctx ctx = seccomp_init(def);
  if (ctx == NULL) die("seccomp_init failed", NULL);
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) die_rc("setting the bad-arch action", rc);
  /* A binary tree keeps a ~300-rule allowlist to a few comparisons per syscall. */
  rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc != 0) die_rc("setting the optimize level", rc);
  return ctx;
}

int main(void) {
  char line[MAX_LINE];
  char *words[MAX_WORDS];
  scmp_filter_ctx ctx = NULL;
  while (fgets(line, sizeof line, stdin) != NULL) {
    line_no++;
    if (strchr(line, '\n') == NULL && !feof(stdin)) die("line too long", NULL);
    int n = split(line, words);
    if (n == 0 || words[0][0] == '#') continue;
    if (ctx == NULL) {
      ctx = start(words, n);
      continue;
    }
    if (n < 2) die("expected ACTION SYSCALL ...", words[0]);
    if (strcmp(words[0], "allow") == 0) add_rule(ctx, SCMP_ACT_ALLOW, words, n, 2);
    else if (strcmp(words[0], "kill") == 0) add_rule(ctx, SCMP_ACT_KILL_PROCESS, words, n, 2);
    else if (strcmp(words[0], "skip") == 0) add_rule(ctx, SCMP_ACT_ERRNO(0), words, n, 2);
    else if (strcmp(words[0], "errno") == 0) {
      if (n < 3) die("errno needs SYSCALL ERRNO", NULL);
      add_rule(ctx, SCMP_ACT_ERRNO((uint32_t)parse_errno(words[2])), words, n, 3);
    } else die("unknown statement (use default, allow, errno, skip, kill)", words[0]);
  }
  if (ferror(stdin)) die("reading stdin failed", strerror(errno));
  if (ctx == NULL) die("empty profile: no 'default' statement", NULL);
  /* libseccomp writes the program with one write() and does not check for a short write, which
   * only a non-blocking fd can produce: make stdout blocking first. */
  int flags = fcntl(STDOUT_FILENO, F_GETFL);
  if (flags < 0 || fcntl(STDOUT_FILENO, F_SETFL, flags & ~O_NONBLOCK) < 0) die("making stdout blocking failed", strerror(errno));
  int rc = seccomp_export_bpf(ctx, STDOUT_FILENO);
  if (rc != 0) die_rc("seccomp_export_bpf", rc);
  seccomp_release(ctx);
  return 0;
}
