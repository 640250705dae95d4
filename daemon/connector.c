/*
 * connector.c - the table of platform connectors.
 */
#include <stddef.h>

#include "connector.h"
#include "util.h"

static const struct connector *const connectors[] = {
	&conn_facebook,
	&conn_mastodon,
};

const struct connector *
connector_find(enum platform p)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(connectors); i++)
		if (connectors[i]->platform == p)
			return connectors[i];
	return NULL;
}
