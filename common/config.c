/* config: every setting of both daemons, read once from the environment. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "num.h"

/* Long enough not to be guessed; visible ASCII so that it fits in a header. */
enum { TOKEN_MIN_BYTES = 16 };

static bool token_ok(const char *token)
{
	if (!*token)
		return true;
	for (const char *c = token; *c; c++)
		if (*c < '!' || *c > '~')
			return false;
	return strlen(token) >= TOKEN_MIN_BYTES;
}

static bool set_str(const char **field, const char *name, const char *text, long min, long max,
		    char *err, size_t errlen)
{
	(void)name, (void)min, (void)max, (void)err, (void)errlen;
	*field = text;
	return true;
}

static bool set_int(long *field, const char *name, const char *text, long min, long max, char *err,
		    size_t errlen)
{
	if (num_parse_long(text, min, max, field))
		return true;
	snprintf(err, errlen, "%s must be a whole number from %ld to %ld, not '%s'", name, min,
		 max, text);
	return false;
}

#define CONFIG_SETTER_STR set_str
#define CONFIG_SETTER_INT set_int
#define CONFIG_LOAD(type, field, var, def, min, max, help)                                   \
	if (!CONFIG_SETTER_##type(&cfg->field, var, getenv(var) ? getenv(var) : def, min, max, \
				  err, errlen))                                               \
		return false;

bool config_load(struct config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	CONFIG_FIELDS(CONFIG_LOAD)
	if (!token_ok(cfg->memcache_token)) {
		snprintf(err, errlen,
			 "GALLERY_MEMCACHE_TOKEN must be at least %d visible ASCII characters "
			 "(no spaces)", TOKEN_MIN_BYTES);
		return false;
	}
	if (!log_set_level_name(cfg->log_level)) {
		snprintf(err, errlen, "GALLERY_LOG_LEVEL must be debug, info, warn or error, not '%s'",
			 cfg->log_level);
		return false;
	}
	return true;
}

#define CONFIG_HELP(type, field, var, def, min, max, help) \
	fprintf(out, "  %-30s %s (default: %s)\n", var, help, *def ? def : "empty");

void config_print_help(FILE *out, const char *program, const char *summary)
{
	fprintf(out, "usage: %s [--help]\n%s\n\nSettings come from the environment:\n", program,
		summary);
	CONFIG_FIELDS(CONFIG_HELP)
}

bool config_init(struct config *cfg, int argc, char **argv, const char *summary,
		 int *exit_code)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		config_print_help(stdout, argv[0], summary);
		*exit_code = 0;
		return false;
	}
	*exit_code = 2;
	if (argc > 1) {
		fprintf(stderr,
			"%s: unknown argument '%s' (settings come from the environment; try --help)\n",
			argv[0], argv[1]);
		return false;
	}
	char err[512];
	if (!config_load(cfg, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return false;
	}
	return true;
}
