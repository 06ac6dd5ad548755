#include "caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

#define NCAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

static int last_cap(void)
{
	static int cached = -1;
	char buf[16] = "";
	int fd;

	if (cached >= 0)
		return cached;
	fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	cached = CAP_LAST_CAP;
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			cached = atoi(buf);
		close(fd);
	}
	return cached;
}

bool nsx_caps_has(uint64_t set, int cap)
{
	return (set >> cap) & 1;
}

static int parse_set(json_object *caps, const char *key, uint64_t *out, struct nsx_error *e)
{
	json_object *arr = NULL;
	size_t n;

	*out = 0;
	if (!caps || !json_object_object_get_ex(caps, key, &arr) || json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return nsx_fail(e, "capabilities", NULL, 0, NULL, "invalid init message: capabilities.%s must be an array", key);
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(arr, i));
		for (int c = 0; name && c < NCAPS && c <= last_cap(); c++)
			if (!strcasecmp(name, cap_names[c]))
				*out |= 1ULL << c;
	}
	return 0;
}

int nsx_caps_parse(json_object *capabilities, struct nsx_caps *c, struct nsx_error *e)
{
	return parse_set(capabilities, "bounding", &c->bounding, e) || parse_set(capabilities, "effective", &c->effective, e) ||
	       parse_set(capabilities, "permitted", &c->permitted, e) ||
	       parse_set(capabilities, "inheritable", &c->inheritable, e) || parse_set(capabilities, "ambient", &c->ambient, e)
		       ? -1
		       : 0;
}

int nsx_caps_drop_bounding(const struct nsx_caps *c, struct nsx_error *e)
{
	for (int cap = 0; cap <= last_cap(); cap++) {
		if (nsx_caps_has(c->bounding, cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return nsx_fail(e, "capabilities", "prctl", errno, NULL, "drop %s from the bounding set",
					cap < NCAPS ? cap_names[cap] : "capability");
	}
	return 0;
}

int nsx_caps_apply(const struct nsx_caps *c, struct nsx_error *e)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(c->effective >> (32 * i));
		data[i].permitted = (uint32_t)(c->permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(c->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return nsx_fail(e, "capabilities", "capset", errno, NULL, "set capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return nsx_fail(e, "capabilities", "prctl", errno, NULL, "clear the ambient set");
	/* A cap outside permitted or inheritable cannot be ambient; like runc, such
	 * entries are skipped rather than failing the container. */
	for (int cap = 0; cap <= last_cap(); cap++)
		if (nsx_caps_has(c->ambient, cap) && nsx_caps_has(c->permitted & c->inheritable, cap) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return nsx_fail(e, "capabilities", "prctl", errno, NULL, "raise ambient %s",
					cap < NCAPS ? cap_names[cap] : "capability");
	return 0;
}
