/* A hostile container init with CAP_SYS_PTRACE: it watches /proc for every new
 * process (an exec'd one, or a runtime helper in the container's pid namespace),
 * stops it with SIGSTOP the moment it appears, and looks through /proc/<pid> for
 * what the host could leak: an fd, cwd or root naming a file that is not the
 * container's own (a host cgroup directory, the host's /proc...), and the marker
 * the test put in the runtime caller's environment. One line per finding, and
 * one per process caught, on stdout:
 *   caught <pid> <exe>          host <pid> <link> <target>          env <pid>
 * Usage: proc-watch <marker> */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SEEN 65536

static char seen[MAX_SEEN];

/* A device node is the same device when its number is (the container's /dev/null
 * is a node of its own). */
static int same_file(const struct stat *a, const struct stat *b)
{
	if ((S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode)) || (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode)))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* A link under /proc/<pid> that names a path must name the very file that path
 * opens here; anything else (sockets, pipes, memfds) is no path at all. */
static void check_link(int pid, const char *link)
{
	char target[4096];
	struct stat here, there;
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	int fd;

	if (n <= 0)
		return;
	target[n] = '\0';
	if (target[0] != '/' || !strncmp(target, "/memfd:", 7))
		return;
	fd = open(link, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &there) == 0 && (stat(target, &here) < 0 || !same_file(&here, &there)))
		printf("host %d %s %s\n", pid, link, target);
	close(fd);
}

static void check_env(int pid, const char *marker)
{
	char path[64], buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = '\n';
	buf[n] = '\0';
	if (strstr(buf, marker))
		printf("env %d\n", pid);
}

static void inspect(int pid, const char *marker)
{
	char path[64], exe[4096], link[128];
	ssize_t n;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	printf("caught %d %s\n", pid, exe);
	check_env(pid, marker);
	snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
	check_link(pid, link);
	snprintf(link, sizeof(link), "/proc/%d/root", pid);
	check_link(pid, link);
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fd/%s", pid, de->d_name);
		check_link(pid, link);
	}
	if (d)
		closedir(d);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int self = getpid();
	DIR *proc;

	if (argc != 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	proc = opendir("/proc");
	if (!proc)
		return 1;
	for (;;) {
		struct dirent *de;

		rewinddir(proc);
		while ((de = readdir(proc))) {
			int pid = atoi(de->d_name);

			if (pid <= 0 || pid == self || pid >= MAX_SEEN || seen[pid])
				continue;
			seen[pid] = 1;
			kill(pid, SIGSTOP);
			inspect(pid, argv[1]);
			kill(pid, SIGCONT);
		}
	}
}
