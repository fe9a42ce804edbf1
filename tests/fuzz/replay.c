/*
 * replay.c: a plain main() for a fuzz target, without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on each input file. The meson build links it
 * with every target and runs it over tests/fuzz/corpus/<target>/, so the
 * seeds and every crash input ever found are checked in the normal test
 * run, deterministically, under whatever sanitizers the build has.
 *
 * Usage: fuzz-replay-<target> PATH...
 *   a PATH that is a directory stands for its files (not recursive, names
 *   starting with '.' skipped), in name order.
 * Before each input it prints "replay: <path>" to stderr, so when a
 * property fails (hf_fuzz_fail aborts) or a sanitizer stops the process,
 * the last such line names the input that reproduces it. Exits 0 when
 * every input ran, 1 when an input could not be read or none was found.
 *
 * Each input is read into a buffer of exactly its size, as libFuzzer does,
 * so a read past the end is seen by ASan here too.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: cannot open\n", path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *all = malloc(cap);
	size_t got;
	while (all && (got = fread(all + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			uint8_t *bigger = realloc(all, cap * 2);
			if (!bigger) {
				free(all);
				all = NULL;
				break;
			}
			all = bigger;
			cap *= 2;
		}
	}
	int bad = ferror(f) || !all;
	fclose(f);
	if (bad) {
		free(all);
		fprintf(stderr, "replay: %s: cannot read\n", path);
		return -1;
	}
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(all);
		fprintf(stderr, "replay: %s: out of memory\n", path);
		return -1;
	}
	memcpy(exact, all, len);
	free(all);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	fflush(stderr);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every file of dir in name order; returns the count or -1. */
static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: %s: cannot open directory\n", dir);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **more = realloc(names, cap * sizeof(*names));
			if (!more)
				break;
			names = more;
		}
		size_t need = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(need);
		if (!names[n])
			break;
		snprintf(names[n], need, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (count >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			count = run_file(names[i]) < 0 ? -1 : count + 1;
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	int total = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
			return 1;
		}
		int n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
		if (n < 0)
			return 1;
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no input (usage: %s PATH...)\n", argv[0]);
		return 1;
	}
	fprintf(stderr, "replay: %d inputs, every property held\n", total);
	return 0;
}
