"""The demo's gifts register, checked without a running system: what it names exists and it
is labelled invented (`tests/test_batching.py` loads it with the rest of the demo)."""

from __future__ import annotations

from twinning.demo import _read, demo_partners

CALENDAR = _read("calendar.json")
CRM = _read("crm.json")
VISITS = [CALENDAR["visit"], *_read("protocol.json")["visits"]]
GIFTS = _read("gifts.json")["gifts"]


def test_what_the_demo_gifts_name_exists_and_is_labelled_invented() -> None:
    partners = {p["names"]["en"] for p in demo_partners()}
    missions = {m["names"]["en"] for m in CRM["missions"]}
    officials = {o["key"] for o in CALENDAR["officials"]}
    for gift in GIFTS:
        assert gift["description"]["en"].startswith("DEMO")
        for party in (gift["giver"], gift["recipient"]):
            assert (
                party.get("official") in officials
                or party.get("partner") in partners
                or party.get("mission") in missions
                or "person" in party
            ), party
        if "occasion" in gift:
            when = gift["occasion"]
            assert [
                v
                for v in VISITS
                if v.get("partner") == when["visit_of"] and v["days"][0] == when["day"]
            ], when


def test_the_demo_has_gifts_given_and_received_and_one_the_next_visit_shows() -> None:
    assert {g["direction"] for g in GIFTS} == {"given", "received"}
    coming = CALENDAR["visit"]["partner"]
    assert any(g["direction"] == "given" and g["recipient"].get("partner") == coming for g in GIFTS)


def test_the_demo_names_registered_missions_as_counterparts_and_co_hosts() -> None:
    partners = {p["names"]["en"] for p in demo_partners()}
    missions = {m["names"]["en"] for m in CRM["missions"]}
    with_missions = [e for e in CRM["exchanges"] if e.get("missions")]
    assert with_missions and all(set(e["missions"]) <= missions for e in with_missions)
    hosts = [h for e in _read("city_events.json")["events"] for h in e.get("co_hosts", [])]
    assert hosts and all(
        h.get("partner") in partners or h.get("mission") in missions for h in hosts
    )


def test_the_demo_press_items_cover_visits_it_holds() -> None:
    items = _read("press.json")["items"]
    assert {i["kind"] for i in items} == {"release", "article", "interview", "broadcast"}
    for entry in items:
        assert "DEMO" in " ".join(entry["title"].values()) or "示範" in entry["title"].get(
            "zh-TW", ""
        )
        for covered in entry.get("covers", []):
            assert [
                v
                for v in VISITS
                if v.get("partner") == covered["visit_of"] and v["days"][0] == covered["day"]
            ], covered
