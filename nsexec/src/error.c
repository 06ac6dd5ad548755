#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

int nsx_fail(struct nsx_error *e, const char *stage, const char *syscall, int errno_value,
	     const char *path, const char *fmt, ...)
{
	va_list ap;
	char what[512];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	e->stage = stage;
	e->syscall = syscall;
	e->err = errno_value;
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
	if (errno_value) {
		/* Lower-case like Go's syscall errors, so the text reads as runc's does
		 * (clients match e.g. "no such file or directory"). */
		int n = snprintf(e->message, sizeof(e->message), "%s: %s", what, strerror(errno_value));
		size_t at = strlen(what) + 2;

		if (n > 0 && at < sizeof(e->message))
			e->message[at] = (char)tolower((unsigned char)e->message[at]);
	} else
		snprintf(e->message, sizeof(e->message), "%s", what);
	return -1;
}

/* Cuts text to about half at a UTF-8 character boundary, marking the cut with "...". */
static void halve(char *text)
{
	size_t at = strlen(text) / 2;

	while (at > 0 && ((unsigned char)text[at] & 0xc0) == 0x80)
		at--;
	memcpy(text + at, "...", 4);
}

/* The error as one protocol line (with its newline) in buf, or 0 when it does not fit. */
static size_t format_line(const struct nsx_error *e, char *buf, size_t size)
{
	json_object *o = json_object_new_object();
	const char *text;
	size_t len;

	json_object_object_add(o, "type", json_object_new_string("error"));
	json_object_object_add(o, "stage", json_object_new_string(e->stage ? e->stage : "unknown"));
	if (e->syscall)
		json_object_object_add(o, "syscall", json_object_new_string(e->syscall));
	if (e->err) {
		json_object_object_add(o, "errno", json_object_new_int(e->err));
		json_object_object_add(o, "errnoName", json_object_new_string(strerrorname_np(e->err) ? strerrorname_np(e->err) : "E?"));
	}
	if (e->path[0])
		json_object_object_add(o, "path", json_object_new_string(e->path));
	json_object_object_add(o, "message", json_object_new_string(e->message));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	if (len + 1 < size) {
		memcpy(buf, text, len);
		buf[len++] = '\n';
	} else
		len = 0;
	json_object_put(o);
	return len;
}

void nsx_report_error(int fd, const struct nsx_error *e)
{
	static struct nsx_error cut;
	char buf[8192];
	size_t len;
	ssize_t n;

	/* One write per line keeps lines whole even if parent and child both report; a line
	 * too long for it (escaping makes a control character six bytes) is cut, never dropped. */
	cut = *e;
	while (!(len = format_line(&cut, buf, sizeof(buf))))
		halve(strlen(cut.path) > strlen(cut.message) ? cut.path : cut.message);
	/* MSG_NOSIGNAL: the runtime may already be gone; no SIGPIPE then. */
	while ((n = send(fd, buf, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0 && errno == ENOTSOCK)
		while (write(fd, buf, len) < 0 && errno == EINTR)
			;
}
