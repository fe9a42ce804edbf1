"""Shared assertions for the integration tests."""


def expect_error(r, status, code):
    """r is an error answer of the one shape {"error": {"code", "message", ...}}."""
    assert r.status_code == status, "expected %d %s, got %d: %s" % (status, code, r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    e = body["error"]
    assert e["code"] == code, body
    assert isinstance(e["message"], str) and e["message"], body
    return e


def expect_ok(r, status=200):
    assert r.status_code == status, "expected %d, got %d: %s" % (status, r.status_code, r.text)
    return r.json()
