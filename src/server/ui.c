/*
 * ui.c: serves the seat-map page (SPEC section 8) from the table that
 * src/ui/embed.py generates. Answers locally in the prepare step: no engine
 * round trip, nothing read from the state (the page reads the API itself).
 *
 * The answer's bytes are the table's (r->out points at them; the writer is
 * not used after), with the file's Content-Type and a Cache-Control: the
 * page itself is revalidated every time (a new binary serves a new page at
 * once); the script and style sheet may be reused for a short while.
 */
#include <string.h>

#include "server/server.h"
#include "server/ui.h"

#define UI_CACHE_PAGE "no-cache"
#define UI_CACHE_ASSET "public, max-age=300"

static int serve(struct hf_req *r, const struct hf_ui_file *f, const char *cache)
{
	r->status = 200;
	r->resp_type = f->content_type;
	r->resp_cache = cache;
	/* Read-only from here on: http.c writes out.len bytes of out.buf. */
	r->out.buf = (char *)f->bytes;
	r->out.len = f->len;
	r->out.cap = f->len;
	return HF_ANSWERED;
}

static const struct hf_ui_file *find(const char *name, size_t n)
{
	for (unsigned i = 0; i < hf_ui_files_count; i++)
		if (strlen(hf_ui_files[i].name) == n && !memcmp(hf_ui_files[i].name, name, n))
			return &hf_ui_files[i];
	return NULL;
}

int hf_ui_prepare(struct hf_req *r)
{
	hf_jw_init(&r->out, r->arena);
	/* /ui/ and /ui/events/{id} are the page; /ui/{file} a file of it. */
	bool page = !strcmp(r->route->pattern, "/ui/") || !strcmp(r->route->pattern, "/ui/events/{id}");
	const struct hf_ui_file *f = page ? find("index.html", 10) : find(r->param.ptr, r->param.len);
	if (!f || (!page && !strcmp(f->name, "index.html"))) {
		hf_render_error(r, 404, "not_found", "no such file of the page");
		return HF_ANSWERED;
	}
	return serve(r, f, page ? UI_CACHE_PAGE : UI_CACHE_ASSET);
}
