#include "jsonutil.h"

#include <errno.h>
#include <stdlib.h>

json_object *nsx_json_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

static int typed(json_object *o, const char *key, json_type t, const char *tname, json_object **v,
		 struct nsx_error *e)
{
	*v = nsx_json_get(o, key);
	if (*v && !json_object_is_type(*v, t))
		return nsx_fail(e, "config", NULL, 0, NULL, "invalid init message: %s must be %s", key, tname);
	return 0;
}

int nsx_json_string(json_object *o, const char *key, const char **out, struct nsx_error *e)
{
	json_object *v;

	if (typed(o, key, json_type_string, "a string", &v, e))
		return -1;
	if (v)
		*out = json_object_get_string(v);
	return 0;
}

int nsx_json_bool(json_object *o, const char *key, bool *out, struct nsx_error *e)
{
	json_object *v;

	if (typed(o, key, json_type_boolean, "a boolean", &v, e))
		return -1;
	if (v)
		*out = json_object_get_boolean(v);
	return 0;
}

int nsx_json_int64(json_object *o, const char *key, int64_t *out, struct nsx_error *e)
{
	json_object *v;

	if (typed(o, key, json_type_int, "an integer", &v, e))
		return -1;
	if (v)
		*out = json_object_get_int64(v);
	return 0;
}

int nsx_json_array(json_object *o, const char *key, json_object **out, struct nsx_error *e)
{
	json_object *v;

	if (typed(o, key, json_type_array, "an array", &v, e))
		return -1;
	*out = v;
	return 0;
}

int nsx_json_object(json_object *o, const char *key, json_object **out, struct nsx_error *e)
{
	json_object *v;

	if (typed(o, key, json_type_object, "an object", &v, e))
		return -1;
	*out = v;
	return 0;
}

int nsx_json_strv(json_object *arr, const char *what, char ***out, struct nsx_error *e)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return nsx_fail(e, "config", "malloc", ENOMEM, NULL, "%s", what);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(s, json_type_string)) {
			free(v);
			return nsx_fail(e, "config", NULL, 0, NULL, "invalid init message: %s[%zu] must be a string", what, i);
		}
		v[i] = (char *)json_object_get_string(s);
	}
	*out = v;
	return 0;
}
