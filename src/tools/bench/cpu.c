/*
 * cpu.c: where the CPU of the measured window went, and the server's memory
 * (bench.h).
 *
 * The machine's busy ticks (/proc/stat) over the window are split three
 * ways: this process (the client, getrusage), the --account process trees
 * (the servers: each PID and every descendant, reaped children included)
 * and the rest ("other": work on the machine that is not ours, which the
 * side-by-side script uses to repeat a disturbed run).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

static uint64_t proc_trees_ticks(const pid_t *roots, int n_roots)
{
	if (!n_roots)
		return 0;
	/* pid -> (ppid, ticks incl. reaped children) for every process */
	size_t cap = 4096, n = 0;
	struct p {
		pid_t pid, ppid;
		uint64_t ticks;
		bool in;
	} *ps = xalloc(cap * sizeof(*ps));
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char path[300], buf[1024];
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		char *rp = strrchr(buf, ')');
		if (!rp)
			continue;
		/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
		 * majflt cmajflt utime stime cutime cstime */
		char st;
		long ppid;
		unsigned long long v[13];
		if (sscanf(rp + 2, "%c %ld %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &st, &ppid, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
			   &v[9], &v[10], &v[11], &v[12]) != 15)
			continue;
		if (n == cap) {
			cap *= 2;
			ps = realloc(ps, cap * sizeof(*ps));
			if (!ps)
				die("out of memory");
		}
		ps[n].pid = (pid_t)atol(de->d_name);
		ps[n].ppid = (pid_t)ppid;
		ps[n].ticks = v[9] + v[10] + v[11] + v[12];
		ps[n].in = false;
		for (int r = 0; r < n_roots; r++)
			if (ps[n].pid == roots[r])
				ps[n].in = true;
		n++;
	}
	if (d)
		closedir(d);
	for (bool grown = true; grown;) {
		grown = false;
		for (size_t i = 0; i < n; i++) {
			if (ps[i].in)
				continue;
			for (size_t k = 0; k < n; k++)
				if (ps[k].in && ps[k].pid == ps[i].ppid) {
					ps[i].in = grown = true;
					break;
				}
		}
	}
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		if (ps[i].in)
			sum += ps[i].ticks;
	free(ps);
	return sum;
}

void cpu_snap(struct bench *b, struct cpu_snap *s)
{
	memset(s, 0, sizeof(*s));
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long u, ni, sy, id, io, irq, sirq, st;
	if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &ni, &sy, &id, &io,
			&irq, &sirq, &st) == 8) {
		s->busy = u + ni + sy + irq + sirq;
		s->steal = st;
	}
	if (f)
		fclose(f);
	s->trees = proc_trees_ticks(b->acct, b->n_acct);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	s->self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void cpu_account(struct bench *b, const struct cpu_snap *s0, const struct cpu_snap *s1,
		 double wall_s)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	double machine = (double)(s1->busy - s0->busy) / hz;
	b->cpu_client_s = s1->self_s - s0->self_s;
	b->cpu_server_s = (double)(s1->trees - s0->trees) / hz;
	b->cpu_other_s = machine - b->cpu_client_s - b->cpu_server_s;
	if (b->cpu_other_s < 0)
		b->cpu_other_s = 0;
	b->steal_s = (double)(s1->steal - s0->steal) / hz;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	b->busy_pct = wall_s > 0 ? 100.0 * machine / (wall_s * (double)cores) : 0;
}

long proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6)) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}
