/* SPDX-License-Identifier: BSD-3-Clause */

#include "blk/ctl.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk/alloc.h"
#include "common/errmsg.h"

struct ctl_node {
	const char *name;
	atomic_int value;
};

/* defaults of PMDK's Debian build */
static struct ctl_node Nodes[] = {
	{"fallocate.at_create", 1}, {"copy_on_write.at_open", 0}, {"sds.at_create", 1},
	{"prefault.at_create", 0},  {"prefault.at_open", 0},
};

enum { NODE_FALLOCATE, NODE_COW, NODE_SDS, NODE_PREFAULT_CREATE, NODE_PREFAULT_OPEN };

static bool node_on(int index)
{
	return atomic_load_explicit(&Nodes[index].value, memory_order_relaxed) != 0;
}

bool ctl_fallocate_at_create(void)
{
	return node_on(NODE_FALLOCATE);
}

bool ctl_cow_at_open(void)
{
	return node_on(NODE_COW);
}

bool ctl_sds_at_create(void)
{
	return node_on(NODE_SDS);
}

bool ctl_prefault_at_create(void)
{
	return node_on(NODE_PREFAULT_CREATE);
}

bool ctl_prefault_at_open(void)
{
	return node_on(NODE_PREFAULT_OPEN);
}

static struct ctl_node *find_node(const char *name)
{
	for (size_t i = 0; i < sizeof(Nodes) / sizeof(Nodes[0]); i++)
		if (strcmp(Nodes[i].name, name) == 0)
			return &Nodes[i];
	return NULL;
}

int ctl_query(enum ctl_query_type type, const char *name, void *arg)
{
	if (name == NULL) {
		errmsg_set(EINVAL, "invalid query");
		return -1;
	}
	struct ctl_node *node = find_node(name);
	if (node == NULL || type == CTL_QUERY_EXEC) {
		errmsg_set(EINVAL, "invalid query entry point %s", name);
		return -1;
	}
	if (arg == NULL) {
		errmsg_set(EINVAL, "invalid argument");
		return -1;
	}
	if (type == CTL_QUERY_GET)
		*(int *)arg = atomic_load(&node->value);
	else
		atomic_store(&node->value, *(int *)arg);
	return 0;
}

/* Boolean text as PMDK parses it: only the first character counts. */
static int parse_bool(const char *text, int *out)
{
	switch (text[0]) {
	case '1':
	case 'y':
	case 'Y':
		*out = 1;
		return 0;
	case '0':
	case 'n':
	case 'N':
		*out = 0;
		return 0;
	default:
		return -1;
	}
}

/*
 * Splits one item into name and value as PMDK does (strtok_r on '=', so runs of '=' at
 * either end or in the middle count as one separator); -1 if either is missing or there
 * is a third part.
 */
static int split_item(char *item, char **name, char **value)
{
	size_t len = strlen(item);
	char *save = NULL;
	*name = strtok_r(item, "=", &save);
	*value = *name != NULL ? strtok_r(NULL, "=", &save) : NULL;
	if (*value == NULL || strtok_r(NULL, "=", &save) != NULL) {
		/* strtok_r cut the item at its '=': put them back for the message */
		for (size_t i = 0; i < len; i++)
			if (item[i] == '\0')
				item[i] = '=';
		errmsg_set(EINVAL, "invalid config item \"%s\"", item);
		return -1;
	}
	return 0;
}

/*
 * "name=value;name=value;" with empty items allowed; -1 on the first malformed item. As
 * in PMDK, an unknown name or a value that is not a boolean leaves the node as it is:
 * loading must not fail on a knob some other libpmemblk version has, or parses
 * differently. Names are taken as they are, spaces included, as PMDK does.
 */
static int load_config(char *config)
{
	char *save = NULL;
	for (char *item = strtok_r(config, ";", &save); item != NULL;
	     item = strtok_r(NULL, ";", &save)) {
		char *name;
		char *value;
		if (split_item(item, &name, &value) != 0)
			return -1;
		struct ctl_node *node = find_node(name);
		int parsed;
		if (node != NULL && parse_bool(value, &parsed) == 0)
			atomic_store(&node->value, parsed);
	}
	return 0;
}

/* Reads a config file, dropping '#' comments (to the end of the line) and whitespace. */
static char *read_config_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t cap = 256;
	size_t len = 0;
	char *buf = blk_malloc(cap);
	int c;
	int in_comment = 0;
	while (buf != NULL && (c = fgetc(f)) != EOF) {
		if (c == '#')
			in_comment = 1;
		if (c == '\n')
			in_comment = 0;
		if (in_comment || c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (len + 1 >= cap) {
			char *bigger = blk_realloc(buf, cap * 2);
			if (bigger == NULL) {
				blk_free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		buf[len++] = (char)c;
	}
	fclose(f);
	if (buf != NULL)
		buf[len] = '\0';
	return buf;
}

/* Like PMDK, a configuration that cannot be parsed stops the program at load time. */
static void config_abort(const char *source)
{
	fprintf(stderr, "libpmemblk: failed to apply the configuration in %s: %s\n", source,
		errmsg_get());
	abort();
}

static void load_environment_string(void)
{
	const char *conf = getenv("PMEMBLK_CONF");
	if (conf == NULL || conf[0] == '\0')
		return;
	size_t len = strlen(conf);
	char *text = blk_malloc(len + 1);
	if (text == NULL)
		config_abort("PMEMBLK_CONF");
	memcpy(text, conf, len + 1);
	int ret = load_config(text);
	blk_free(text);
	if (ret != 0)
		config_abort("PMEMBLK_CONF");
}

static void load_environment_file(void)
{
	const char *file = getenv("PMEMBLK_CONF_FILE");
	if (file == NULL || file[0] == '\0')
		return;
	char *text = read_config_file(file);
	if (text == NULL) {
		errmsg_set_errno(errno != 0 ? errno : ENOMEM, "cannot read %s", file);
		config_abort("PMEMBLK_CONF_FILE");
	}
	int ret = load_config(text);
	blk_free(text);
	if (ret != 0)
		config_abort("PMEMBLK_CONF_FILE");
}

/* PMDK's order: the file comes second, so what it sets wins over PMEMBLK_CONF */
__attribute__((constructor)) static void ctl_load_environment(void)
{
	load_environment_string();
	load_environment_file();
}
