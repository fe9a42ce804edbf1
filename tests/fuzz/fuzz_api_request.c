/*
 * fuzz_api_request.c: whole requests (method, target, headers, body)
 * through the server's own steps without sockets
 * (server/request.h hf_api_request: target decoding, route, header bound, credentials,
 * content type, body, command, prepare), then the fixture's state and the
 * answer's rendering (hf_api_render).
 *
 * Why: fuzz_http_request reaches the route table and the JSON walker; what
 * api.c does between them (credentials, roles, the acting customer, the
 * Idempotency-Key, each route's prepare step, the reads, the rendering of
 * every answer) is only reached through a whole request. Owner isolation
 * and "a refused request changes nothing" are properties of that path.
 *
 * Input: up to REQUESTS_MAX requests, separated by a line "%%". Each is
 *   <METHOD> <TARGET>[ <version, ignored>]\n
 *   <Name>: <value>\n          (any number; a line without ':' is ignored)
 *   \n
 *   <body: every byte up to the next "\n%%\n" or the end>
 * Lines may end in "\r\n"; a NUL in the head ends its line. The target is
 * as on the wire (hf_api_request unescapes %XX and splits "?limit=&after=").
 * Headers read: Authorization, Content-Type, Idempotency-Key (the first of
 * each, names without case, values trimmed as picohttpparser does); every
 * header counts toward the 8 KiB bound. In Authorization, "{admin}" stands
 * for the admin key, "{alice}", "{bob}", "{carol}" for valid tokens of
 * those customers, "{expired}" for alice's token that expired before the
 * first request and "{short}" for bob's token that expires after the third
 * (a fuzzer cannot forge an HMAC: these let it use credentials the server
 * signed; anything else is garbage it may write). Request i runs at
 * HF_FUZZ_T0 + (i + 1) minutes on one fixture state (fuzz.h) and one
 * connection's credential memo, so a sequence can create a hold and
 * confirm it, retry, or present a token again after it expired.
 * The server has no engine: GET /health, GET /metrics and POST
 * /admin/clock answer 503 (request.h).
 *
 * With HF_FUZZ_VERBOSE set in the environment it prints each request's
 * route, answer and, for writes, the core's result (a check that seeds
 * reach the core).
 *
 * Properties, for every request:
 *   - no crash, abort, leak or undefined behaviour (ASan + UBSan);
 *   - the answer is a status of docs/API.md's table with a JSON object
 *     body; an error is {"error": {"code", "message", ...}} with a code
 *     that table gives for that status, equal to the code the log line
 *     would show; a success has no "error" key;
 *   - credentials: the admin role only with the admin key in the header,
 *     a customer only with that customer's valid token in it (so never
 *     with the expired one); admin routes succeed only for the admin,
 *     customer routes only for the admin or a customer;
 *   - owner isolation: a customer's write acts for the token's customer
 *     (the command's customer), a booking it gets back is that customer's,
 *     a write on another customer's hold or order gets the answer the
 *     same write gets for an id that does not exist (HF_NOT_OWNER for
 *     HF_UNKNOWN_HOLD / _ORDER, both answered 404 alike: no oracle for
 *     another's bookings), and a customer's 200 read shows only that
 *     customer's bookings;
 *   - a write the API submits encodes (hf_cmd_encoded_size > 0, the log
 *     can store it), decodes to the same bytes, and applied to the state
 *     passes every check of hf_fuzz_apply (hf_sm_check, reply codec, a
 *     refusal changes nothing); its answer is an error exactly when the
 *     core refused it, else the route's success status;
 *   - nothing but a submitted write changes the state (hf_sm_digest is
 *     the same after an answered request and after a read);
 *   - an idempotent replay answers the same status and bytes as the
 *     answer it replays;
 *   - POST /tokens answers a token that verifies for the customer named.
 */
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "server/arena.h"
#include "server/auth.h"
#include "server/request.h"
#include "server/server.h"

#define ADMIN_KEY "fuzz-admin-key" /* as fuzz_token_verify.c: seeds carry over */
#define REQUESTS_MAX 8
/* Idempotent answers remembered per input (for the replay property). */
#define ANSWERS_MAX REQUESTS_MAX

/* ---- credentials ---------------------------------------------------------- */

/* Columns: placeholder, customer ("" for the admin key), expiry. */
static const struct {
	const char *placeholder;
	const char *customer;
	int64_t expires_at_ms;
} creds[] = {
	{"{admin}", "", 0},
	{"{alice}", "alice", HF_FUZZ_T0 + 24 * HF_FUZZ_HOUR},
	{"{bob}", "bob", HF_FUZZ_T0 + 24 * HF_FUZZ_HOUR},
	{"{carol}", "carol", HF_FUZZ_T0 + 24 * HF_FUZZ_HOUR},
	{"{expired}", "alice", HF_FUZZ_T0 + HF_FUZZ_MIN / 2},
	/* valid for requests 0-2, expired from request 3 on: a token that
	 * expires while the connection remembers it (server.h hf_cred_memo) */
	{"{short}", "bob", HF_FUZZ_T0 + 3 * HF_FUZZ_MIN + HF_FUZZ_MIN / 2},
};
#define N_CREDS (sizeof(creds) / sizeof(creds[0]))

static struct hf_auth auth;
static char cred_text[N_CREDS][HF_TOKEN_TEXT_MAX];

/* The same secret as fuzz_token_verify.c; tokens minted once. */
static void creds_init(void)
{
	static bool ready;
	if (ready)
		return;
	SHA256((const unsigned char *)ADMIN_KEY, strlen(ADMIN_KEY), auth.admin_sha256);
	for (size_t i = 0; i < sizeof(auth.secret); i++)
		auth.secret[i] = (uint8_t)(7 * i + 1);
	for (size_t i = 0; i < N_CREDS; i++) {
		if (!creds[i].customer[0])
			snprintf(cred_text[i], sizeof(cred_text[i]), "%s", ADMIN_KEY);
		else
			hf_auth_token_mint(&auth, creds[i].customer, strlen(creds[i].customer),
					   creds[i].expires_at_ms, cred_text[i]);
	}
	ready = true;
}

/* The Authorization value with every placeholder replaced; malloc'ed. */
static char *expand_authorization(const char *v)
{
	size_t cap = strlen(v) + 1, n = 0;
	for (const char *p = v; *p; p++)
		if (*p == '{')
			cap += HF_TOKEN_TEXT_MAX;
	char *out = malloc(cap);
	if (!out)
		hf_fuzz_fail("out of memory");
	for (const char *p = v; *p;) {
		size_t i = 0;
		while (i < N_CREDS && strncmp(p, creds[i].placeholder, strlen(creds[i].placeholder)))
			i++;
		if (i < N_CREDS) {
			size_t len = strlen(cred_text[i]);
			memcpy(out + n, cred_text[i], len);
			n += len;
			p += strlen(creds[i].placeholder);
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

/* Is the credential of creds[i] (valid, not expired) in the header? */
static bool header_has(const char *authorization, size_t i)
{
	return authorization && strstr(authorization, cred_text[i]) != NULL;
}

/* ---- one request's text -> struct hf_api_input ----------------------------- */

struct parsed {
	char *head;          /* the head's copy, cut into strings */
	char *authorization; /* expanded, malloc'ed */
	char *body;          /* exactly body_len bytes (ASan sees overreads) */
	struct hf_api_input in;
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* false: not a request (no "METHOD TARGET" line). */
static bool parse_request(const uint8_t *p, size_t n, struct parsed *q)
{
	memset(q, 0, sizeof(*q));
	const uint8_t *blank = memmem(p, n, "\n\n", 2);
	size_t head_len = blank ? (size_t)(blank - p) : n;
	size_t body_off = blank ? head_len + 2 : n;
	q->head = malloc(head_len + 1);
	q->body = malloc(n - body_off ? n - body_off : 1);
	if (!q->head || !q->body)
		hf_fuzz_fail("out of memory");
	if (head_len)
		memcpy(q->head, p, head_len);
	q->head[head_len] = '\0';
	if (n > body_off)
		memcpy(q->body, p + body_off, n - body_off);
	q->in.body = q->body;
	q->in.body_len = n - body_off;

	/* Lines: each cut at '\n'; a NUL inside one ends it early. */
	char *line = q->head, *end = q->head + head_len;
	char *next = memchr(line, '\n', head_len);
	if (next)
		*next = '\0';
	char *sp = strchr(line, ' ');
	if (!sp)
		return false;
	*sp = '\0';
	q->in.method = line;
	char *target = sp + 1;
	char *sp2 = strchr(target, ' ');
	if (sp2)
		*sp2 = '\0';
	size_t tn = strlen(target);
	if (tn && target[tn - 1] == '\r')
		target[tn - 1] = '\0';
	q->in.target = target;
	const char *auth_raw = NULL;
	while (next && next + 1 < end) {
		line = next + 1;
		next = memchr(line, '\n', (size_t)(end - line));
		if (next)
			*next = '\0';
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *value = trim(colon + 1);
		const char **slot = NULL;
		if (!strcasecmp(line, "Authorization"))
			slot = &auth_raw;
		else if (!strcasecmp(line, "Content-Type"))
			slot = &q->in.content_type;
		else if (!strcasecmp(line, "Idempotency-Key"))
			slot = &q->in.idem_key;
		if (slot && !*slot)
			*slot = value;
		else
			q->in.other_header_bytes += strlen(line) + strlen(value) + 4;
	}
	if (auth_raw)
		q->in.authorization = q->authorization = expand_authorization(auth_raw);
	return true;
}

static void parsed_free(struct parsed *q)
{
	free(q->head);
	free(q->authorization);
	free(q->body);
}

/* ---- checks ---------------------------------------------------------------- */

/* docs/API.md "Errors": the codes each status may carry. Columns: status,
 * codes (NULL-terminated). */
static const struct {
	uint16_t status;
	const char *codes[12];
} status_codes[] = {
	{200, {NULL}},
	{201, {NULL}},
	{400, {"bad_request", NULL}},
	{401, {"unauthorized", NULL}},
	{403, {"forbidden", NULL}},
	{404, {"not_found", NULL}},
	{405, {"bad_request", NULL}},
	{409, {"seats_unavailable", "insufficient_stock", "hold_expired", "hold_not_active",
	       "invalid_transition", "limit_exceeded", "sale_closed", "idempotency_key_reused",
	       "already_exists", "orphan_seat", NULL}},
	{413, {"payload_too_large", NULL}},
	{415, {"bad_request", NULL}},
	{431, {"payload_too_large", NULL}},
	{503, {"overloaded", NULL}},
};

static bool code_allowed(uint16_t status, const char *code)
{
	for (size_t i = 0; i < sizeof(status_codes) / sizeof(status_codes[0]); i++) {
		if (status_codes[i].status != status)
			continue;
		for (size_t k = 0; status_codes[i].codes[k]; k++)
			if (!strcmp(status_codes[i].codes[k], code))
				return true;
		return status < 400 && !code;
	}
	return false;
}

static bool status_known(uint16_t status)
{
	for (size_t i = 0; i < sizeof(status_codes) / sizeof(status_codes[0]); i++)
		if (status_codes[i].status == status)
			return true;
	return false;
}

static bool jstr_is(const json_t *v, const char *s, size_t n)
{
	return json_is_string(v) && json_string_length(v) == n && !memcmp(json_string_value(v), s, n);
}

/* A 200 read by a customer shows only that customer's bookings. */
static void check_owner_read(const struct hf_req *r, json_t *doc, const char *what)
{
	json_t *list = json_object_get(doc, "holds");
	if (!list)
		list = json_object_get(doc, "orders");
	if (list) {
		size_t i;
		json_t *b;
		json_array_foreach(list, i, b)
			if (!jstr_is(json_object_get(b, "customer"), r->customer.ptr, r->customer.len))
				hf_fuzz_fail("%s: %.*s's list shows another customer's booking", what,
					     (int)r->customer.len, r->customer.ptr);
	}
	if (!jstr_is(json_object_get(doc, "customer"), r->customer.ptr, r->customer.len))
		hf_fuzz_fail("%s: %.*s's read shows another customer's booking", what,
			     (int)r->customer.len, r->customer.ptr);
}

/* POST /tokens: the token answered verifies, for the customer answered. */
static void check_token(const struct hf_req *r, json_t *doc, const char *what)
{
	json_t *tok = json_object_get(doc, "token"), *cust = json_object_get(doc, "customer");
	char customer[HF_ID_LEN_MAX + 1];
	size_t cl = 0;
	if (!json_is_string(tok) || !json_is_string(cust) ||
	    !hf_auth_token_verify(&r->srv->auth, json_string_value(tok), json_string_length(tok),
				  hf_server_now_ms(r->srv), customer, &cl) ||
	    !jstr_is(cust, customer, cl))
		hf_fuzz_fail("%s: POST /tokens answered a token that does not verify for its customer",
			     what);
}

/* Findings reported to their owners and not fixed yet, each relaxing one
 * property so the fuzzer can go on finding others (NOTES-hostile.md has
 * the inputs, kept in corpus/api_request/crash-*). Delete a row once its
 * fix lands: the kept inputs then guard the fix. */
static const struct {
	const char *name;
	const char *relaxes;
} known_open[] = {
	/* None open. Closed: "H1-error-text-not-utf8" (answers must be valid
	 * UTF-8; fixed in jsonw.c, its inputs are crash-*-not-utf8 and
	 * crash-*-cut-mid-utf8). */
	{NULL, NULL},
};

static bool known(const char *name)
{
	for (size_t i = 0; known_open[i].name; i++)
		if (!strcmp(known_open[i].name, name))
			return true;
	return false;
}

/* Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF). Returns the offset of the first bad byte, or n. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
					  : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (len == 0 || i + len > n)
			return i;
		uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1fu : len == 3 ? c & 0x0fu : c & 0x07u;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return n;
}

/* The answer's shape; the parsed body is returned for further checks (the
 * caller frees it). */
static json_t *check_answer(const struct hf_req *r, const char *what)
{
	if (r->out.oom)
		hf_fuzz_fail("%s: the answer ran out of memory", what);
	if (!status_known(r->status))
		hf_fuzz_fail("%s: status %u is not in docs/API.md's table", what, r->status);
	if (r->resp_type)
		hf_fuzz_fail("%s: an answer of type %s (only JSON is expected here)", what,
			     r->resp_type);
	const char *text = r->out.buf ? r->out.buf : "";
	size_t len = r->out.len;
	char *patched = NULL;
	size_t bad = utf8_valid_prefix((const unsigned char *)text, len);
	if (bad < len) {
		if (!known("H1-error-text-not-utf8"))
			hf_fuzz_fail("%s: status %u with a body that is not UTF-8 (byte %zu): %.*s", what,
				     r->status, bad, (int)(len > 300 ? 300 : len), text);
		/* Check the rest of the answer as if each bad byte were '?'. */
		patched = malloc(len);
		if (!patched)
			hf_fuzz_fail("out of memory");
		memcpy(patched, text, len);
		for (size_t i = bad; i < len; i += 1 + utf8_valid_prefix((unsigned char *)patched + i + 1,
									   len - i - 1))
			patched[i] = '?';
		text = patched;
	}
	json_error_t je;
	json_t *doc = len ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &je) : NULL;
	if (!json_is_object(doc))
		hf_fuzz_fail("%s: status %u with a body that is not a JSON object (%s): %.*s", what,
			     r->status, len ? je.text : "empty", (int)(len > 300 ? 300 : len), text);
	free(patched);
	json_t *err = json_object_get(doc, "error");
	if (r->status >= 400) {
		json_t *code = json_object_get(err, "code"), *msg = json_object_get(err, "message");
		if (json_object_size(doc) != 1 || !json_is_object(err) || !json_is_string(code) ||
		    !json_is_string(msg) || !json_string_length(msg))
			hf_fuzz_fail("%s: status %u not in the error shape: %.*s", what, r->status,
				     (int)(r->out.len > 300 ? 300 : r->out.len), r->out.buf);
		if (!code_allowed(r->status, json_string_value(code)))
			hf_fuzz_fail("%s: status %u with code %s", what, r->status,
				     json_string_value(code));
		if (!r->err_code || strcmp(r->err_code, json_string_value(code)))
			hf_fuzz_fail("%s: the log line would say code %s, the body %s", what,
				     r->err_code ? r->err_code : "-", json_string_value(code));
	} else if (err) {
		hf_fuzz_fail("%s: status %u with an \"error\" key", what, r->status);
	}
	return doc;
}

/* Who the request is, against what its Authorization header holds. */
static void check_identity(const struct hf_req *r, const char *what)
{
	if (r->admin && !header_has(r->authorization, 0))
		hf_fuzz_fail("%s: the admin role without the admin key", what);
	if (r->customer.len) {
		size_t i = 1;
		while (i < N_CREDS && !(creds[i].expires_at_ms > hf_server_now_ms(r->srv) &&
					strlen(creds[i].customer) == r->customer.len &&
					!memcmp(creds[i].customer, r->customer.ptr, r->customer.len) &&
					header_has(r->authorization, i)))
			i++;
		if (i == N_CREDS)
			hf_fuzz_fail("%s: acting as customer %.*s without a valid token of theirs", what,
				     (int)r->customer.len, r->customer.ptr);
	}
}

/* Idempotent answers of this input: (customer, key) -> status and bytes. */
struct answer {
	char customer[HF_ID_LEN_MAX + 1];
	char key[HF_ID_LEN_MAX + 1];
	uint16_t status;
	char *body;
	size_t len;
};

static struct answer *answer_find(struct answer *a, size_t n, const struct hf_cmd *cmd)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(a[i].customer) == cmd->customer.len &&
		    (!cmd->customer.len || !memcmp(a[i].customer, cmd->customer.ptr, cmd->customer.len)) &&
		    strlen(a[i].key) == cmd->idem_key.len &&
		    !memcmp(a[i].key, cmd->idem_key.ptr, cmd->idem_key.len))
			return &a[i];
	return NULL;
}

/* A replay answers as the answer it replays; a keyed answer the core
 * stored is remembered for later replays. */
static void check_replay(const struct hf_req *r, struct answer *a, size_t *n, const char *what)
{
	const struct hf_cmd *cmd = &r->ereq.cmd;
	const struct hf_reply *rp = &r->ereq.reply;
	if (!cmd->idem_key.len)
		return;
	struct answer *prev = answer_find(a, *n, cmd);
	if (rp->replayed) {
		if (prev && (prev->status != r->status || prev->len != r->out.len ||
			     memcmp(prev->body, r->out.buf, r->out.len)))
			hf_fuzz_fail("%s: an idempotent replay answers %u %.*s, the first answer was "
				     "%u %.*s",
				     what, r->status, (int)r->out.len, r->out.buf, prev->status,
				     (int)prev->len, prev->body);
		return;
	}
	/* Not stored by the core: a full table, or a key used for another request. */
	if (rp->result == HF_CAPACITY_FULL || rp->result == HF_IDEMPOTENCY_KEY_REUSED)
		return;
	if (!prev) {
		if (*n == ANSWERS_MAX)
			return;
		prev = &a[(*n)++];
		/* An admin's catalog write has no customer ({NULL, 0}). */
		if (cmd->customer.len)
			memcpy(prev->customer, cmd->customer.ptr, cmd->customer.len);
		prev->customer[cmd->customer.len] = '\0';
		memcpy(prev->key, cmd->idem_key.ptr, cmd->idem_key.len);
		prev->key[cmd->idem_key.len] = '\0';
	}
	free(prev->body);
	prev->status = r->status;
	prev->len = r->out.len;
	prev->body = malloc(r->out.len ? r->out.len : 1);
	if (!prev->body)
		hf_fuzz_fail("out of memory");
	memcpy(prev->body, r->out.buf, r->out.len);
}

/* A hold and order id no fixture or input reaches (the fixture's tables
 * hold 8 of each). */
#define UNKNOWN_BOOKING_ID 1000000u

/* The booking id a command acts on (NULL: none). */
static uint64_t *booking_of(struct hf_cmd *cmd, bool *order /* out */)
{
	*order = false;
	switch (cmd->type) {
	case HF_CMD_HOLD_ADD:
	case HF_CMD_HOLD_REMOVE:
		return &cmd->u.lines.hold;
	case HF_CMD_HOLD_EXTEND:
	case HF_CMD_HOLD_CONFIRM:
	case HF_CMD_HOLD_RELEASE:
		return &cmd->u.hold_op.hold;
	case HF_CMD_ORDER_CANCEL:
		*order = true;
		return &cmd->u.order_op.order;
	default:
		return NULL;
	}
}

/* When cmd (a customer's) acts on an existing booking of another
 * customer: the result the same command gets on a copy of sm with the id
 * replaced by one that does not exist. Else HF_RESULT_COUNT. */
static enum hf_result result_if_unknown(const struct hf_sm *sm, int64_t now,
					const struct hf_cmd *cmd, struct hf_str me)
{
	static struct hf_cmd c;
	static struct hf_booking b;
	static struct hf_reply rep;
	c = *cmd;
	bool order;
	uint64_t *id = booking_of(&c, &order);
	if (!id || (order ? hf_sm_order_view(sm, *id, &b) : hf_sm_hold_view(sm, *id, &b)) != HF_OK ||
	    hf_str_eq(hf_sm_customer_name(sm, b.customer), me))
		return HF_RESULT_COUNT;
	size_t n = hf_sm_snapshot_size(sm);
	uint8_t *buf = malloc(n);
	if (!buf)
		hf_fuzz_fail("out of memory");
	if (hf_sm_snapshot_write(sm, buf, n) != n)
		hf_fuzz_fail("the state's snapshot is not %zu bytes", n);
	struct hf_sm *copy = hf_fuzz_sm_empty();
	char err[256] = "";
	if (hf_sm_snapshot_read(copy, buf, n, err, sizeof(err)) != 0)
		hf_fuzz_fail("the state's own snapshot is refused: %s", err);
	*id = UNKNOWN_BOOKING_ID;
	hf_sm_apply(copy, now, &c, &rep);
	hf_sm_free(copy);
	free(buf);
	return (enum hf_result)rep.result;
}

/* ---- one request ------------------------------------------------------------ */

struct run {
	struct hf_server *srv;
	struct hf_sm *sm;
	struct hf_arena arena;
	struct hf_cred_memo memo; /* one connection for the whole input */
	struct answer answers[ANSWERS_MAX];
	size_t n_answers;
	bool verbose;
};

/* A write the API submitted (a request's, or one operation of a batch):
 * who it acts for, its encoding, then applied to the state with every
 * check of hf_fuzz_apply and the owner-isolation checks. */
static void apply_write(struct run *run, struct hf_req *r, int64_t now, const char *what)
{
	struct hf_sm *sm = run->sm;
	struct hf_cmd *cmd = &r->ereq.cmd;
	const struct hf_route *rt = r->route;
	if (!rt || rt->cmd == HF_CMD_NONE || cmd->type != rt->cmd)
		hf_fuzz_fail("%s: a write of type %u on route %s %s", what, cmd->type,
			     rt ? rt->method : "-", rt ? rt->pattern : "-");
	if (cmd->admin != r->admin)
		hf_fuzz_fail("%s: a command marked admin=%d from a request with admin=%d", what,
			     cmd->admin, r->admin);
	if (!cmd->admin && !hf_str_eq(cmd->customer, r->customer))
		hf_fuzz_fail("%s: %.*s's token acts for customer %.*s", what, (int)r->customer.len,
			     r->customer.ptr, (int)cmd->customer.len, cmd->customer.ptr);
	hf_fuzz_check_cmd(cmd, what);
	/* Expiry at now first, as hf_fuzz_apply does, so the owner is looked
	 * up in the state the command meets. */
	static const struct hf_cmd tick = {.type = HF_CMD_TICK};
	hf_sm_apply(sm, now, &tick, &r->ereq.reply);
	enum hf_result unknown =
		cmd->admin ? HF_RESULT_COUNT : result_if_unknown(sm, now, cmd, r->customer);
	hf_fuzz_apply(sm, now, cmd, &r->ereq.reply, what);
	const struct hf_reply *rp = &r->ereq.reply;
	/* Not the owner and no such id read alike (both sides: an idempotent
	 * replay gives back a stored HF_NOT_OWNER for either). */
	enum hf_result got = (enum hf_result)rp->result;
	enum hf_result none = cmd->type == HF_CMD_ORDER_CANCEL ? HF_UNKNOWN_ORDER : HF_UNKNOWN_HOLD;
	if (got == HF_NOT_OWNER)
		got = none;
	if (unknown == HF_NOT_OWNER)
		unknown = none;
	if (unknown != HF_RESULT_COUNT && got != unknown)
		hf_fuzz_fail("%s: %.*s acting on another's booking is told %s, on an unknown id %s",
			     what, (int)r->customer.len, r->customer.ptr,
			     hf_result_name((enum hf_result)rp->result), hf_result_name(unknown));
	if (rp->result == HF_OK && !cmd->admin &&
	    (rp->kind == HF_REPLY_HOLD || rp->kind == HF_REPLY_ORDER) &&
	    !hf_str_eq(hf_sm_customer_name(sm, rp->booking.customer), r->customer))
		hf_fuzz_fail("%s: %.*s got back another customer's booking", what,
			     (int)r->customer.len, r->customer.ptr);
}

/* The answer of one request or one operation of a batch, once rendered. */
static void check_rendered(struct run *run, const struct hf_req *r, bool write, const char *what)
{
	const struct hf_route *rt = r->route;
	const struct hf_reply *rp = &r->ereq.reply;
	if (run->verbose)
		fprintf(stderr, "api_request: %s -> %s%s%s %u %s\n", what,
			write ? hf_result_name((enum hf_result)rp->result) : "",
			write && rp->replayed ? " (replayed)" : "", write ? " ->" : "", r->status,
			r->err_code ? r->err_code : "");
	if (write && ((r->status >= 400) != (rp->result != HF_OK) ||
		      (rp->result == HF_OK && r->status != rt->ok_status)))
		hf_fuzz_fail("%s: the core said %s, the answer is %u", what,
			     hf_result_name((enum hf_result)rp->result), r->status);
	json_t *doc = check_answer(r, what);
	if (r->status < 400 && rt) {
		if (rt->auth == HF_AUTH_ADMIN && !r->admin)
			hf_fuzz_fail("%s: %s %s succeeded without the admin key", what, rt->method,
				     rt->pattern);
		if (rt->auth == HF_AUTH_CUSTOMER && !r->admin && !r->customer.len)
			hf_fuzz_fail("%s: %s %s succeeded without a credential", what, rt->method,
				     rt->pattern);
		/* A batch's answer holds its operations' answers, checked one
		 * by one. */
		if (rt->auth == HF_AUTH_CUSTOMER && !r->admin && rt->body != HF_BODY_BATCH)
			check_owner_read(r, doc, what);
		if (rt->body == HF_BODY_TOKEN)
			check_token(r, doc, what);
	}
	json_decref(doc);
	if (write)
		check_replay(r, run->answers, &run->n_answers, what);
}

static void run_one(struct run *run, const struct parsed *q, int64_t now, const char *what)
{
	struct hf_sm *sm = run->sm;
	struct hf_server *srv = run->srv;
	atomic_store(&srv->test_now_ms, now);
	uint64_t before = hf_sm_digest(sm);
	struct hf_req *r = NULL;
	struct hf_api_input in = q->in;
	in.cred_memo = &run->memo;
	int rc = hf_api_request(srv, &run->arena, &in, &r);
	if (rc == -1)
		hf_fuzz_fail("%s: hf_api_request ran out of memory", what);
	if (rc != HF_ANSWERED && rc != HF_SUBMIT)
		hf_fuzz_fail("%s: hf_api_request returned %d", what, rc);
	check_identity(r, what);
	const struct hf_route *rt = r->route;
	bool batch = rt && rt->body == HF_BODY_BATCH;
	bool write = rc == HF_SUBMIT && !r->ereq.read && !batch;
	if (rc == HF_SUBMIT) {
		if (!rt)
			hf_fuzz_fail("%s: submitted without a route", what);
		if ((rt->auth == HF_AUTH_ADMIN && !r->admin) ||
		    (rt->auth == HF_AUTH_CUSTOMER && !r->admin && !r->customer.len))
			hf_fuzz_fail("%s: submitted without the role %s %s needs", what, rt->method,
				     rt->pattern);
		if (batch != (r->n_submit > 0))
			hf_fuzz_fail("%s: %u operations submitted by %s %s", what, r->n_submit,
				     rt->method, rt->pattern);
	}
	/* POST /batch: the submitted operations, in order, in one sequencer
	 * batch (one now); each is a write of its own. */
	bool submitted[HF_BATCH_OPS_MAX] = {false};
	char op_what[sizeof("request 7 op 99 (") + 200];
	if (rc == HF_SUBMIT && batch) {
		if (r->n_submit > r->n_ops || r->n_ops > HF_BATCH_OPS_MAX)
			hf_fuzz_fail("%s: %u operations submitted of %u", what, r->n_submit, r->n_ops);
		for (uint32_t i = 0; i < r->n_submit; i++) {
			struct hf_req *o = r->submit[i]->ctx;
			if (!o || o < r->ops || o >= r->ops + r->n_ops || o->batch != r ||
			    &o->ereq != r->submit[i] || o->ereq.read)
				hf_fuzz_fail("%s: submitted operation %u is not one of the batch", what, i);
			if (o->admin != r->admin || !hf_str_eq(o->customer, r->customer))
				hf_fuzz_fail("%s: an operation acts with another credential", what);
			size_t k = (size_t)(o - r->ops);
			snprintf(op_what, sizeof(op_what), "%.40s op %zu (%.40s %.80s)", what, k,
				 o->method, o->path);
			if (submitted[k])
				hf_fuzz_fail("%s: submitted twice", op_what);
			submitted[k] = true;
			apply_write(run, o, now, op_what);
		}
		hf_api_render(r, now);
	} else if (rc == HF_SUBMIT && !write) {
		r->ereq.read(&r->ereq, sm, now);
		hf_api_render(r, now);
	} else if (write) {
		apply_write(run, r, now, what);
		hf_api_render(r, now);
	}
	if (!write && !(batch && r->n_submit) && hf_sm_digest(sm) != before)
		hf_fuzz_fail("%s: answered %u without a write, yet the state changed", what,
			     r->status);
	check_rendered(run, r, write, what);
	for (uint32_t k = 0; batch && k < r->n_ops; k++) {
		snprintf(op_what, sizeof(op_what), "%.40s op %u (%.40s %.80s)", what, k,
			 r->ops[k].method ? r->ops[k].method : "-",
			 r->ops[k].path ? r->ops[k].path : "-");
		check_rendered(run, &r->ops[k], submitted[k], op_what);
	}
	hf_arena_reset(&run->arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	creds_init();
	static struct hf_server srv;
	memset(&srv, 0, sizeof(srv));
	srv.cfg.test_clock = true;
	srv.admin_key = ADMIN_KEY;
	srv.admin_key_len = strlen(ADMIN_KEY);
	srv.auth = auth;
	struct run run = {.srv = &srv, .verbose = getenv("HF_FUZZ_VERBOSE") != NULL};
	run.sm = hf_fuzz_sm_new();
	srv.sm = run.sm;

	static const char sep[] = "\n%%\n";
	const uint8_t *p = data, *end = data + size;
	for (int i = 0; i < REQUESTS_MAX && p <= end; i++) {
		const uint8_t *s = memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1);
		size_t n = s ? (size_t)(s - p) : (size_t)(end - p);
		struct parsed q;
		if (parse_request(p, n, &q)) {
			char what[160];
			snprintf(what, sizeof(what), "request %d (%.40s %.80s)", i, q.in.method,
				 q.in.target);
			run_one(&run, &q, HF_FUZZ_T0 + (i + 1) * HF_FUZZ_MIN, what);
		}
		parsed_free(&q);
		if (!s)
			break;
		p = s + sizeof(sep) - 1;
	}

	for (size_t i = 0; i < run.n_answers; i++)
		free(run.answers[i].body);
	hf_arena_free(&run.arena);
	hf_sm_free(run.sm);
	return 0;
}
