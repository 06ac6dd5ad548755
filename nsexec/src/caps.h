/* process.capabilities: all five sets exactly as configured. */
#ifndef NSX_CAPS_H
#define NSX_CAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "error.h"

struct nsx_caps {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

/* Names the running kernel does not know are ignored, as runc does. An absent
 * object means no capabilities at all. */
int nsx_caps_parse(json_object *capabilities, struct nsx_caps *c, struct nsx_error *e);

/* Drops every capability not in c->bounding from the bounding set (needs
 * CAP_SETPCAP, so before the user switch). */
int nsx_caps_drop_bounding(const struct nsx_caps *c, struct nsx_error *e);

/* Sets effective, permitted and inheritable with capset, then the ambient set. */
int nsx_caps_apply(const struct nsx_caps *c, struct nsx_error *e);

/* True when capability number cap is in set. */
bool nsx_caps_has(uint64_t set, int cap);

#endif
