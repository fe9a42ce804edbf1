/*
 * fuzz_http_request.c: an HTTP request's route and JSON body -> the
 * command the core applies (server/server.h hf_route_match, server/jsonin.h
 * hf_jsonin_parse), then the core.
 *
 * Why: method, path and body are the bytes every client controls. The
 * route table and the JSON walker must turn any of them into either a
 * clean 400/413 or a command the rest of the server can log and apply.
 *
 * Input: "<METHOD> <PATH>" up to the first '\n' (NUL-terminated strings,
 * as routing sees them once decoded; a NUL in the line ends it), then the
 * body. What api.c's hf_api_dispatch does between the two parsers and the
 * engine is repeated here, because dispatch needs a live server (auth,
 * engine, connection): the {id} of the path becomes the
 * event, item, hold or order (hf_jsonin_booking_id for h-<n> / o-<n>),
 * admin routes act with the admin key, customer routes with a token for
 * "alice" (a body naming another customer is refused there, 403). The
 * full dispatch is fuzz_api_request's.
 *
 * With HF_FUZZ_VERBOSE set in the environment it prints what became of
 * each input (route, parse result, command): a check that seeds reach
 * the core.
 *
 * Properties:
 *   - hf_route_match gives -1, -2 or a route index whose method is the
 *     request's, with {id} a '/'-free piece of the path;
 *   - hf_jsonin_parse gives 0, or -1 with status 400 or 413 and a message;
 *   - POST /tokens: an accepted body names a valid customer and a ttl
 *     within HF_TOKEN_TTL_MAX_S (prep_token asserts the first: a body
 *     that broke it would crash the server);
 *   - a write the API accepts encodes (hf_cmd_encoded_size > 0: the log can
 *     store it), decodes back to the same bytes, and applied to the
 *     fixture's sm passes every check of hf_fuzz_apply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/arena.h"
#include "server/jsonin.h"
#include "server/server.h"

#define LINE_MAX_BYTES 8192

static void check_route(int idx, const char *method, const char *path, struct hf_str param)
{
	if (idx == -1 || idx == -2)
		return;
	if (idx < 0 || (uint32_t)idx >= hf_route_count())
		hf_fuzz_fail("hf_route_match returned %d of %u routes", idx, hf_route_count());
	const struct hf_route *rt = hf_route_get(idx);
	if (strcmp(rt->method, method) != 0)
		hf_fuzz_fail("route %s %s matched method %s", rt->method, rt->pattern, method);
	if (param.len) {
		size_t plen = strlen(path);
		if (param.ptr < path || param.ptr + param.len > path + plen ||
		    memchr(param.ptr, '/', param.len))
			hf_fuzz_fail("route %s: {id} is not a piece of the path", rt->pattern);
	}
}

/* What the route's prepare step does with {id}; false: the request ends
 * there (404). */
static bool apply_param(const struct hf_route *rt, struct hf_str param, struct hf_cmd *cmd)
{
	switch (rt->cmd) {
	case HF_CMD_SEATS_BLOCK:
	case HF_CMD_SEATS_UNBLOCK:
		if (!hf_jsonin_id_ok(param.ptr, param.len))
			return false;
		cmd->u.seats_block.event = param;
		return true;
	case HF_CMD_ITEM_RESTOCK:
		if (!hf_jsonin_id_ok(param.ptr, param.len))
			return false;
		cmd->u.item_restock.item = param;
		return true;
	case HF_CMD_HOLD_ADD:
	case HF_CMD_HOLD_REMOVE:
		return (cmd->u.lines.hold = hf_jsonin_booking_id('h', param.ptr, param.len)) != 0;
	case HF_CMD_HOLD_EXTEND:
	case HF_CMD_HOLD_CONFIRM:
	case HF_CMD_HOLD_RELEASE:
		return (cmd->u.hold_op.hold = hf_jsonin_booking_id('h', param.ptr, param.len)) != 0;
	case HF_CMD_ORDER_CANCEL:
		cmd->u.order_op.status = HF_ORDER_CANCELED;
		cmd->u.order_op.expect = HF_ORDER_STATUS_ANY;
		/* fall through */
	case HF_CMD_ORDER_STATUS:
		return (cmd->u.order_op.order = hf_jsonin_booking_id('o', param.ptr, param.len)) != 0;
	default:
		return true;
	}
}

static void check_command(struct hf_cmd *cmd)
{
	hf_fuzz_check_cmd(cmd, "the API's command");
	struct hf_sm *sm = hf_fuzz_sm_new();
	static struct hf_reply reply;
	hf_fuzz_apply(sm, HF_FUZZ_T0 + HF_FUZZ_MIN, cmd, &reply, "the API's command");
	if (getenv("HF_FUZZ_VERBOSE"))
		fprintf(stderr, "http_request: %s -> %s\n",
			hf_cmd_type_name((enum hf_cmd_type)cmd->type),
			hf_result_name((enum hf_result)reply.result));
	hf_sm_free(sm);
}

static void parse_body(const struct hf_route *rt, struct hf_str param, const char *body,
		       size_t body_len)
{
	struct hf_arena arena = {0};
	struct hf_cmd cmd;
	struct hf_body_extra extra;
	struct hf_jerr je;
	memset(&cmd, 0, sizeof(cmd));
	memset(&extra, 0, sizeof(extra));
	memset(&je, 0, sizeof(je));
	int rc = hf_jsonin_parse((enum hf_body)rt->body, body, body_len, &arena, &cmd, &extra, &je);
	if (getenv("HF_FUZZ_VERBOSE"))
		fprintf(stderr, "http_request: %s %s: parse %d %u %s%s%s\n", rt->method, rt->pattern,
			rc, je.status, je.path, je.path[0] ? ": " : "", je.msg);
	if (rc == -1) {
		if ((je.status != 400 && je.status != 413) || !memchr(je.msg, 0, sizeof(je.msg)) ||
		    !je.msg[0] || !memchr(je.path, 0, sizeof(je.path)))
			hf_fuzz_fail("%s %s: a refusal with status %u and no message", rt->method,
				     rt->pattern, je.status);
	} else if (rc != 0) {
		hf_fuzz_fail("hf_jsonin_parse returned %d", rc);
	} else if (rt->body == HF_BODY_TOKEN) {
		if (!hf_jsonin_id_ok(extra.customer.ptr, extra.customer.len) ||
		    extra.ttl_s > HF_TOKEN_TTL_MAX_S)
			hf_fuzz_fail("POST /tokens accepted a body with customer of %u bytes, ttl %u",
				     extra.customer.len, extra.ttl_s);
	} else if (rt->cmd != HF_CMD_NONE) {
		static const struct hf_str alice = {"alice", 5};
		cmd.type = rt->cmd;
		cmd.admin = rt->auth == HF_AUTH_ADMIN;
		bool go = apply_param(rt, param, &cmd);
		if (!cmd.admin) {
			if (cmd.customer.len && !hf_str_eq(cmd.customer, alice))
				go = false; /* 403 */
			cmd.customer = alice;
		}
		if (go)
			check_command(&cmd);
	}
	hf_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t line_len = nl ? (size_t)(nl - data) : size;
	if (line_len > LINE_MAX_BYTES)
		return 0;
	char line[LINE_MAX_BYTES + 1];
	memcpy(line, data, line_len);
	line[line_len] = '\0';
	char *sp = strchr(line, ' ');
	if (!sp)
		return 0;
	*sp = '\0';
	const char *method = line, *path = sp + 1;

	struct hf_str param = {NULL, 0};
	int idx = hf_route_match(method, path, &param);
	check_route(idx, method, path, param);
	if (idx < 0)
		return 0;
	const struct hf_route *rt = hf_route_get(idx);

	/* The body, in a buffer of exactly its size (ASan sees overreads). */
	size_t body_len = nl ? size - line_len - 1 : 0;
	char *body = malloc(body_len ? body_len : 1);
	if (!body)
		hf_fuzz_fail("out of memory");
	if (body_len)
		memcpy(body, nl + 1, body_len);
	/* A GET with a body is a 400 before any parsing. */
	if (rt->body != HF_BODY_NONE || !body_len || strcmp(rt->method, "GET"))
		parse_body(rt, param, body, body_len);
	free(body);
	return 0;
}
