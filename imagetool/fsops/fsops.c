/*
 * rocker-fsops: mknod and extended attributes for the image tool.
 *
 * Node has neither mknod(2) nor the *xattr(2) calls. Spawning mknod/setfattr
 * per file costs a fork+exec each; this helper stays alive for a whole unpack
 * or commit and answers one request per line on stdin:
 *
 *   mknod <path> <mode> <major> <minor>   mode in decimal, including S_IFCHR/S_IFBLK/S_IFIFO
 *   setx  <path> <name> [<value>]         lsetxattr (never follows a final symlink)
 *   listx <path>                          every xattr of the path (llistxattr/lgetxattr)
 *
 * <path>, <name> and <value> are hex-encoded, so any byte (newlines, binary
 * capability blobs) travels safely. Each request gets one reply line:
 *   ok [<hexname>=<hexvalue> ...]  or  err <errno> <text>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>

#define MAX_FIELDS 5

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes hex in place; returns the byte length or -1. A NUL is appended. */
static ssize_t unhex(char *s)
{
  size_t n = strlen(s);
  if (n % 2)
    return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    s[i] = (char)(hi << 4 | lo);
  }
  s[n / 2] = '\0';
  return (ssize_t)(n / 2);
}

static void puthex(const char *p, size_t n)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    putchar(digits[(unsigned char)p[i] >> 4]);
    putchar(digits[(unsigned char)p[i] & 15]);
  }
}

static void reply_errno(int err)
{
  printf("err %d %s\n", err, strerror(err));
}

static void do_mknod(char **f)
{
  char *end;
  unsigned long mode = strtoul(f[2], &end, 10);
  unsigned long maj = strtoul(f[3], NULL, 10), min = strtoul(f[4], NULL, 10);
  if (*end || mknod(f[1], (mode_t)mode, makedev(maj, min)) < 0) {
    reply_errno(*end ? EINVAL : errno);
    return;
  }
  puts("ok");
}

static void do_setx(char **f, ssize_t vlen)
{
  if (lsetxattr(f[1], f[2], f[3], (size_t)vlen, 0) < 0) {
    reply_errno(errno);
    return;
  }
  puts("ok");
}

static void do_listx(const char *path)
{
  ssize_t n = llistxattr(path, NULL, 0);
  if (n < 0) {
    reply_errno(errno);
    return;
  }
  char *names = malloc((size_t)n + 1);
  if (!names || (n = llistxattr(path, names, (size_t)n)) < 0) {
    reply_errno(names ? errno : ENOMEM);
    free(names);
    return;
  }
  fputs("ok", stdout);
  for (char *name = names; name < names + n; name += strlen(name) + 1) {
    ssize_t vn = lgetxattr(path, name, NULL, 0);
    char *val = vn >= 0 ? malloc((size_t)vn + 1) : NULL;
    if (val && (vn = lgetxattr(path, name, val, (size_t)vn)) >= 0) {
      putchar(' ');
      puthex(name, strlen(name));
      putchar('=');
      puthex(val, (size_t)vn);
    }
    free(val);
  }
  putchar('\n');
  free(names);
}

int main(void)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    if (line[len - 1] == '\n')
      line[len - 1] = '\0';
    char *f[MAX_FIELDS] = {0};
    int nf = 0;
    for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && nf < MAX_FIELDS; tok = strtok_r(NULL, " ", &save))
      f[nf++] = tok;
    ssize_t lens[MAX_FIELDS] = {0};
    int bad = nf < 2;
    /* Fields after the op that carry bytes are hex; mknod's numbers are plain. */
    int hexfields = nf > 0 && strcmp(f[0], "mknod") == 0 ? 2 : nf;
    for (int i = 1; i < hexfields && !bad; i++)
      bad = (lens[i] = unhex(f[i])) < 0;
    if (bad)
      reply_errno(EINVAL);
    else if (strcmp(f[0], "mknod") == 0 && nf == 5)
      do_mknod(f);
    else if (strcmp(f[0], "setx") == 0 && (nf == 3 || nf == 4)) {
      if (nf == 3)
        f[3] = "";
      do_setx(f, lens[3]);
    }
    else if (strcmp(f[0], "listx") == 0 && nf == 2)
      do_listx(f[1]);
    else
      reply_errno(EINVAL);
    fflush(stdout);
  }
  free(line);
  return 0;
}
