from tests.helpers import error_of


def test_segment_roundtrip(api):
    admin = api.login()
    member = admin.make_member()
    segment = admin.make_segment(f"member_id={member['id']}", code="Auto")
    got = admin.ok("GET", f"/segment?id={segment['id']}")["segment"]
    assert got == segment
    error_of(api.get("/segment"), 401, "NOAUTH")
