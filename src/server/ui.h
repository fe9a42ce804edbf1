/*
 * ui.h: the seat-map page's static files (src/ui, embedded at build time
 * by src/ui/embed.py into a generated table) and the prepare step of the
 * /ui/ routes that serves them.
 *
 * Ownership: the table and its bytes are static and immutable for the
 * process's life; an answer points r->out at them (nothing is copied).
 */
#ifndef HF_SERVER_UI_H
#define HF_SERVER_UI_H

#include <stddef.h>

struct hf_ui_file {
	const char *name;         /* "app.js": the last segment of /ui/<name> */
	const char *content_type; /* from the extension */
	const char *bytes;
	unsigned len;
};

extern const struct hf_ui_file hf_ui_files[];
extern const unsigned hf_ui_files_count;

struct hf_req;
/* GET /ui/ and GET /ui/events/{id}: the page (index.html; the script reads
 * the event from the location); GET /ui/{file}: one file of the table, 404
 * when there is none. Always HF_ANSWERED. */
int hf_ui_prepare(struct hf_req *r);

#endif
