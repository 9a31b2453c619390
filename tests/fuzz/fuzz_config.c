/*
 * fuzz_config: config_init over an argument list and an environment.
 * Input: one argument per line, an empty line, then NAME=value lines; only
 * GALLERY_ names are set, and the environment is put back after each input.
 */
#include <string.h>

#include "common/config.h"
#include "tests/fuzz/fuzz.h"

enum { MAX_ARGS = 64, MAX_SET = 64, DECIMAL = 10 };

static const char PROGRAM[] = "gallery";
static const char SUMMARY[] = "fuzzing the configuration";
static const char PREFIX[] = "GALLERY_";

#define CONFIG_NAME(type, field, var, def, min, max, help) var,
static const char *const CONFIG_NAMES[] = {CONFIG_FIELDS(CONFIG_NAME)};
enum { CONFIG_COUNT = sizeof(CONFIG_NAMES) / sizeof(CONFIG_NAMES[0]) };

/* The environment the program started with, for the variables the input may change. */
struct saved_env {
	char *values[CONFIG_COUNT];
	/*
	 * What the input set, to unset afterwards. putenv with our own copies:
	 * setenv would keep every distinct NAME=value it ever saw.
	 */
	char *names[MAX_SET];
	char *entries[MAX_SET];
	size_t nset;
};

static void save_env(struct saved_env *s)
{
	for (size_t i = 0; i < CONFIG_COUNT; i++) {
		const char *v = getenv(CONFIG_NAMES[i]);
		s->values[i] = v ? strdup(v) : NULL;
		FUZZ_CHECK(!v || s->values[i]);
		unsetenv(CONFIG_NAMES[i]);
	}
	s->nset = 0;
}

static void restore_env(struct saved_env *s)
{
	for (size_t i = 0; i < s->nset; i++) {
		unsetenv(s->names[i]);
		free(s->names[i]);
		free(s->entries[i]);
	}
	for (size_t i = 0; i < CONFIG_COUNT; i++) {
		if (s->values[i])
			setenv(CONFIG_NAMES[i], s->values[i], 1);
		free(s->values[i]);
	}
}

/* line is a NUL-terminated "NAME=value". */
static void set_from_line(struct saved_env *s, const char *line)
{
	const char *eq = strchr(line, '=');
	if (!eq || strncmp(line, PREFIX, strlen(PREFIX)) != 0 || s->nset == MAX_SET)
		return;
	char *name = strndup(line, (size_t)(eq - line));
	char *entry = strdup(line);
	FUZZ_CHECK(name && entry);
	/* Unset first: putenv of an existing name would leave our older entry in use. */
	unsetenv(name);
	FUZZ_CHECK(putenv(entry) == 0);
	s->names[s->nset] = name;
	s->entries[s->nset] = entry;
	s->nset++;
}

/* Strict: an optional minus and digits, nothing around them. */
static bool is_decimal(const char *s)
{
	if (*s == '-')
		s++;
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* What the environment said is what the daemon gets. */
static void check_int(long value, const char *var, long min, long max)
{
	FUZZ_CHECK(value >= min && value <= max);
	const char *text = getenv(var);
	if (text) {
		FUZZ_CHECK(is_decimal(text));
		FUZZ_CHECK(strtol(text, NULL, DECIMAL) == value);
	}
}

#define CHECK_STR(field, var, min, max) \
	FUZZ_CHECK(cfg.field != NULL && (!getenv(var) || strcmp(cfg.field, getenv(var)) == 0));
#define CHECK_INT(field, var, min, max) check_int(cfg.field, var, min, max);
#define CONFIG_CHECK(type, field, var, def, min, max, help) CHECK_##type(field, var, min, max)

int fuzz_config_one(const uint8_t *data, size_t size)
{
	/* A C string, so an argument ends at a NUL byte as it would in argv. */
	char *text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	char *argv[MAX_ARGS + 2] = {(char *)PROGRAM};
	int argc = 1;
	struct saved_env env;
	save_env(&env);
	char *line = text;
	bool in_env = false;
	while (line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!in_env && *line == '\0')
			in_env = true;
		else if (in_env)
			set_from_line(&env, line);
		else if (argc <= MAX_ARGS)
			argv[argc++] = line;
		line = nl ? nl + 1 : NULL;
	}
	argv[argc] = NULL;
	struct config cfg;
	int exit_code = -1;
	if (config_init(&cfg, argc, argv, SUMMARY, &exit_code)) {
		/* Every number within its bounds: nothing out of range reaches the daemons. */
		CONFIG_FIELDS(CONFIG_CHECK)
	} else {
		FUZZ_CHECK(exit_code == 0 || exit_code == 2);
	}
	restore_env(&env);
	free(text);
	return 0;
}
