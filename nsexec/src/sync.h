/* Protocol message I/O on the sync socket (PROTOCOL.md): one JSON object per line. */
#ifndef NSX_SYNC_H
#define NSX_SYNC_H

#include <json-c/json.h>
#include "error.h"

/* Reads exactly one line (never past its '\n', so a later reader in another process
 * sees the next message) and parses it. EOF before a full line is an error. */
int nsx_sync_read(int fd, json_object **out, struct nsx_error *e);

/* Writes o as one line. Never raises SIGPIPE. */
int nsx_sync_send(int fd, json_object *o, struct nsx_error *e);

/* Sends {"type": type}. */
int nsx_sync_send_type(int fd, const char *type, struct nsx_error *e);

/* Sends {"type": type, key: value}. */
int nsx_sync_send_int(int fd, const char *type, const char *key, int value, struct nsx_error *e);
int nsx_sync_send_str(int fd, const char *type, const char *key, const char *value, struct nsx_error *e);

/* Waits for {"type":"continue"}; *state (may be NULL) receives a malloc'd copy of
 * its optional "state" string, or NULL. */
int nsx_sync_wait_continue(int fd, char **state, struct nsx_error *e);

#endif
