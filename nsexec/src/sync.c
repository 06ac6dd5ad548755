#include "sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "jsonutil.h"

#define NSX_MAX_MESSAGE (16u << 20)

static int append(char **buf, size_t *len, size_t *cap, size_t want, struct nsx_error *e)
{
	if (*len + want + 1 > NSX_MAX_MESSAGE)
		return nsx_fail(e, "protocol", NULL, 0, NULL, "message longer than %u bytes", NSX_MAX_MESSAGE);
	if (*len + want + 1 > *cap) {
		size_t ncap = (*len + want + 1) * 2;
		char *n = realloc(*buf, ncap);
		if (!n)
			return nsx_fail(e, "protocol", "realloc", ENOMEM, NULL, "read message");
		*buf = n;
		*cap = ncap;
	}
	return 0;
}

/* Consumes bytes up to and including the next '\n' into *buf (NUL-terminated, without
 * the newline). Peeking first keeps the read from swallowing the following message. */
static int read_line(int fd, char **buf, size_t *len, struct nsx_error *e)
{
	size_t cap = 0;
	char peek[65536];

	*buf = NULL;
	*len = 0;
	for (;;) {
		ssize_t n = recv(fd, peek, sizeof(peek), MSG_PEEK);
		size_t take;
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOTSOCK) {
			/* a pipe: byte by byte is the only way not to over-read */
			n = read(fd, peek, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return nsx_fail(e, "protocol", "read", errno, NULL, "read sync socket");
			if (n == 0)
				return nsx_fail(e, "protocol", NULL, 0, NULL, "sync socket closed before a full message");
			if (append(buf, len, &cap, 1, e))
				return -1;
			if (peek[0] == '\n')
				break;
			(*buf)[(*len)++] = peek[0];
			continue;
		}
		if (n < 0)
			return nsx_fail(e, "protocol", "recv", errno, NULL, "read sync socket");
		if (n == 0)
			return nsx_fail(e, "protocol", NULL, 0, NULL, "sync socket closed before a full message");
		nl = memchr(peek, '\n', n);
		take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
		if (append(buf, len, &cap, take, e))
			return -1;
		for (size_t got = 0; got < take;) {
			ssize_t r = recv(fd, *buf + *len + got, take - got, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return nsx_fail(e, "protocol", "recv", r < 0 ? errno : EPIPE, NULL, "read sync socket");
			got += r;
		}
		*len += take;
		if (nl) {
			(*len)--; /* drop the newline */
			break;
		}
	}
	(*buf)[*len] = '\0';
	return 0;
}

int nsx_sync_read(int fd, json_object **out, struct nsx_error *e)
{
	char *line;
	size_t len;
	json_tokener *tok;
	json_object *o;

	if (read_line(fd, &line, &len, e)) {
		free(line);
		return -1;
	}
	tok = json_tokener_new_ex(NSX_JSON_MAX_DEPTH);
	o = tok ? json_tokener_parse_ex(tok, line, (int)len) : NULL;
	if (!o || json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object)) {
		const char *why = !tok ? "out of memory"
				  : json_tokener_get_error(tok) != json_tokener_success
					  ? json_tokener_error_desc(json_tokener_get_error(tok))
					  : "not a JSON object";

		json_object_put(o);
		json_tokener_free(tok);
		free(line);
		return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid message: %s", why);
	}
	json_tokener_free(tok);
	free(line);
	*out = o;
	return 0;
}

int nsx_sync_send(int fd, json_object *o, struct nsx_error *e)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	char *line = malloc(len + 1);
	size_t off = 0;

	if (!line)
		return nsx_fail(e, "protocol", "malloc", ENOMEM, NULL, "send message");
	memcpy(line, text, len);
	line[len++] = '\n';
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			free(line);
			return nsx_fail(e, "protocol", "send", err, NULL, "write sync socket");
		}
		off += n;
	}
	free(line);
	return 0;
}

/* {"type": type} plus one member when key is set */
static int send_with(int fd, const char *type, const char *key, json_object *value, struct nsx_error *e)
{
	json_object *o = json_object_new_object();
	int rc;

	json_object_object_add(o, "type", json_object_new_string(type));
	if (key)
		json_object_object_add(o, key, value);
	rc = nsx_sync_send(fd, o, e);
	json_object_put(o);
	return rc;
}

int nsx_sync_send_type(int fd, const char *type, struct nsx_error *e)
{
	return send_with(fd, type, NULL, NULL, e);
}

int nsx_sync_send_int(int fd, const char *type, const char *key, int value, struct nsx_error *e)
{
	return send_with(fd, type, key, json_object_new_int(value), e);
}

int nsx_sync_send_str(int fd, const char *type, const char *key, const char *value, struct nsx_error *e)
{
	return send_with(fd, type, key, json_object_new_string(value), e);
}

int nsx_sync_wait_continue(int fd, char **state, struct nsx_error *e)
{
	json_object *o, *t, *s;

	if (state)
		*state = NULL;
	if (nsx_sync_read(fd, &o, e))
		return -1;
	if (!json_object_object_get_ex(o, "type", &t) || !json_object_is_type(t, json_type_string) ||
	    strcmp(json_object_get_string(t), "continue")) {
		json_object_put(o);
		return nsx_fail(e, "protocol", NULL, 0, NULL, "expected a continue message");
	}
	if (state && json_object_object_get_ex(o, "state", &s) && json_object_is_type(s, json_type_string)) {
		*state = strdup(json_object_get_string(s));
		if (!*state) {
			json_object_put(o);
			return nsx_fail(e, "protocol", "strdup", ENOMEM, NULL, "continue state");
		}
	}
	json_object_put(o);
	return 0;
}
