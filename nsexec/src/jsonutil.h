/* Typed accessors over the init message: a missing field gives the default, a
 * field of the wrong type is a protocol error naming the field. */
#ifndef NSX_JSONUTIL_H
#define NSX_JSONUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "error.h"

/* How deeply the runtime's messages may nest: above the runtime's own limit on
 * the files it reads (MAX_JSON_DEPTH, 1000, in runtime/spec/validate.ts), as a
 * message nests a config's parts at most one level deeper. json-c's default is 32. */
#define NSX_JSON_MAX_DEPTH 1024

/* NULL when absent or JSON null. */
json_object *nsx_json_get(json_object *o, const char *key);

/* Each returns 0, or -1 with *e filled (stage "config") when the field exists but
 * has the wrong type. */
int nsx_json_string(json_object *o, const char *key, const char **out, struct nsx_error *e);
int nsx_json_bool(json_object *o, const char *key, bool *out, struct nsx_error *e);
int nsx_json_int64(json_object *o, const char *key, int64_t *out, struct nsx_error *e);
int nsx_json_array(json_object *o, const char *key, json_object **out, struct nsx_error *e);
int nsx_json_object(json_object *o, const char *key, json_object **out, struct nsx_error *e);

/* Copies a JSON array of strings into a NULL-terminated vector (malloc'd; the
 * strings stay owned by the JSON tree). An absent array gives an empty vector. */
int nsx_json_strv(json_object *arr, const char *what, char ***out, struct nsx_error *e);

#endif
