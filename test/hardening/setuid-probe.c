/* Installed setuid-root in a test rootfs: prints the ids and capabilities it runs
 * with, to show whether executing it gained privileges. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	printf("uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			fputs(line, stdout);
	return 0;
}
