/*
 * main.c: the holdfast command line. `holdfast serve` starts the server;
 * `holdfast --version`, `holdfast --help`.
 */
#include <stdio.h>
#include <string.h>

#define HF_VERSION "0.1.0"

static const char usage[] =
	"usage: holdfast <command> [options]\n"
	"\n"
	"commands:\n"
	"  serve     start the booking server (not yet available in this build)\n"
	"  --version print the version\n"
	"  --help    print this help\n";

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("holdfast %s\n", HF_VERSION);
		return 0;
	}
	fprintf(stderr, "holdfast: unknown command '%s'\n%s", argv[1], usage);
	return 2;
}
