"""The analyst pages in a real browser: queue, case, decisions with four-eyes on holds, explanations.

Every test signs in through the login form and reads values off the rendered pages; expected values come
from the JSON API (the same score) and from the world files (the path to a listed party).
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from service.scoring import Scorer
from tests.fixtures_world import SmallWorld
from tests.service.factories import shipment_payload
from tests.service.server import LiveServer
from tests.web.conftest import SignIn, score, screenshot
from tests.web.parties import WorldParties, world_parties

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.xdist_group("web")]

WEAPONS = "guidance electronics for cruise missiles"


@pytest.fixture(scope="module")
def parties(small_world: SmallWorld, small_scorer: Scorer) -> WorldParties:
    """Parties of the small world near and on the lists."""
    return world_parties(small_world, small_scorer)


def _cells(row: Locator) -> list[str]:
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def _rows(table: Locator) -> list[list[str]]:
    return [_cells(row) for row in table.locator("tbody tr").all()]


def _section(page: Page, heading: str) -> Locator:
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


def _open_case(page: Page, shipment_id: str) -> None:
    page.goto("/ui/cases")
    page.get_by_role("link", name=shipment_id, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Shipment {shipment_id}")


def _history(page: Page) -> list[list[str]]:
    return _rows(_section(page, "History").locator("table"))


def _details(page: Page) -> list[dict[str, str]]:
    """Per history row, its details as shown: term -> text."""
    out = []
    for row in _section(page, "History").locator("tbody tr").all():
        terms, texts = row.locator("dt").all_inner_texts(), row.locator("dd").all_inner_texts()
        out.append(dict(zip(terms, texts, strict=True)))
    return out


def test_sign_in_is_required_and_checks_the_key(web_server: LiveServer, sign_in: SignIn) -> None:
    page = sign_in("ana")
    expect(page.locator("header")).to_contain_text("ana (analyst)")
    page.goto("/ui/cases/cs_nope")
    expect(page.locator(".error")).to_have_text("no case 'cs_nope'")
    page.get_by_role("button", name="sign out").click()
    page.wait_for_url("**/ui/login")
    page.goto("/ui/cases")  # the cookie is gone: back to the form
    page.wait_for_url("**/ui/login")
    for key in ("not-a-key", web_server.keys["bot"]):  # unknown, and a scorer that may not read cases
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".error")).to_have_text("unknown key, or a role that may not read cases")
    screenshot(page, "login-refused")


def test_queue_is_ordered_by_risk_and_opens_a_case(
    web_server: LiveServer, sign_in: SignIn, parties: WorldParties
) -> None:
    bodies = [
        shipment_payload("WEB-Q-PLAIN"),
        shipment_payload("WEB-Q-NEAR", consignee=parties.near, destination_country="RU", route=["KZ"]),
        shipment_payload("WEB-Q-LOW", items=[{"hs_code": "940360", "description": "office chairs",
                                              "quantity": 20, "unit": "pcs", "value": 2600}],
                         declared_end_use="office furniture"),
    ]  # fmt: skip
    scored = {body["shipment_id"]: score(web_server, body) for body in bodies}
    queued = {sid: s for sid, s in scored.items() if s["case_id"]}
    assert len(queued) >= 2, scored  # the plain and the near-listed shipment open review cases

    page = sign_in("ana")
    rows = _rows(page.locator("#queue"))
    risks = [float(row[0]) for row in rows]
    assert risks == sorted(risks, reverse=True)
    by_shipment = {row[4]: row for row in rows}
    for sid, result in queued.items():
        assert by_shipment[sid][0] == f"{result['risk']:.3f}"
        assert by_shipment[sid][1] == result["band"]
        assert by_shipment[sid][3] == "open"
    screenshot(page, "queue")

    top = max(queued, key=lambda sid: queued[sid]["risk"])
    page.get_by_role("link", name=top, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Shipment {top}")
    expect(page.locator("#summary")).to_contain_text(f"risk {queued[top]['risk']:.3f}")

    page.goto("/ui/cases?band=no-such-band&status=open")  # filters narrow the queue; junk is ignored
    open_rows = _rows(page.locator("#queue"))
    assert {row[3] for row in open_rows} == {"open"}
    assert set(queued) <= {row[4] for row in open_rows}


def test_case_shows_reasons_red_flags_and_the_path_to_a_listed_party(
    web_server: LiveServer, sign_in: SignIn, parties: WorldParties
) -> None:
    body = shipment_payload("WEB-C-NEAR", consignee=parties.near, destination_country="RU", route=["KZ"])
    result = score(web_server, body)
    assert result["case_id"], result
    page = sign_in("ana")
    _open_case(page, "WEB-C-NEAR")

    reasons = _rows(_section(page, "Why").locator("table"))
    assert [row[0] for row in reasons] == [r["label"] for r in result["reasons"]]
    assert [float(row[1]) for row in reasons] == [round(r["contribution"], 3) for r in result["reasons"]]
    assert len(reasons) >= 3

    flags = _section(page, "Red flags").locator("li").all_inner_texts()
    expected_flags = [f"{f['code']} ({f['party']}): {f['label']}" for f in result["red_flags"]]
    assert [text.strip() for text in flags] == expected_flags

    consignee = _section(page, "Parties in the graph").locator("tbody tr").filter(has_text="consignee")
    cells = _cells(consignee)
    near, person, listed = parties.near_path
    assert cells[1] == parties.near["name"]
    assert cells[2] == "2"
    names = [parties.names[near], parties.names[person], f"{parties.names[listed]} (listed)"]
    assert cells[3] == " → ".join(names)
    # the path is the world's: company - person - listed company are related in relationships.parquet
    assert frozenset((near, person)) in parties.edges
    assert frozenset((person, listed)) in parties.edges
    screenshot(page, "case-review")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download evidence pack").click()
    assert download.value.suggested_filename == f"case-{result['case_id']}-evidence.zip"
    with zipfile.ZipFile(download.value.path()) as pack:
        case, manifest = (json.loads(pack.read(name)) for name in ("case.json", "manifest.json"))
        readme = pack.read("README.txt").decode()
    assert (case["case_id"], case["shipment_id"]) == (result["case_id"], "WEB-C-NEAR")
    assert manifest["exported_by"] == {"name": "ana", "role": "analyst", "via": "web"}
    assert f"party: {' -> '.join(names)}" in readme  # the path to the listed party, in the pack's words


def _decide(page: Page, decision: str, rationale: str) -> None:
    form = page.locator("form#decide")
    form.get_by_label("decision").select_option(decision)
    form.get_by_label("rationale").fill(rationale)
    form.get_by_role("button", name="decide").click()
    page.wait_for_load_state()


def test_decision_with_rationale_is_recorded_in_the_history(web_server: LiveServer, sign_in: SignIn) -> None:
    result = score(web_server, shipment_payload("WEB-D-1"))
    assert result["action"] == "review", result
    page = sign_in("bob")
    _open_case(page, "WEB-D-1")
    assert _history(page)[0][2:4] == ["bot", "opened"]

    page.locator("form#assign").get_by_role("button", name="assign").click()
    expect(page.locator("#status")).to_have_text("in_review")
    expect(page.locator("#summary")).to_contain_text("assigned to bob")

    page.locator("form#decide").get_by_role("button", name="decide").click()  # no rationale: not sent
    expect(page.locator("#status")).to_have_text("in_review")

    _decide(page, "request_info", "ask the consignee for the end-user certificate")
    expect(page.locator("#status")).to_have_text("in_review")
    _decide(page, "release", "certificate received; civil buyer confirmed")
    expect(page.locator("#status")).to_have_text("closed")
    expect(page.locator("#summary")).to_contain_text("decided release by bob")
    expect(_section(page, "Act")).to_have_count(0)  # a closed case has no forms

    history = _history(page)
    assert [row[0] for row in history] == ["1", "2", "3", "4"]
    assert [row[2:4] for row in history] == [["bot", "opened"], ["bob", "assigned"], ["bob", "decision"],
                                             ["bob", "decision"]]  # fmt: skip
    details = _details(page)
    assert details[2]["decision"] == "request_info"
    assert details[2]["rationale"] == "ask the consignee for the end-user certificate"
    assert (details[3]["decision"], details[3]["closes"]) == ("release", "true")
    assert details[3]["score_id"] == result["score_id"]
    screenshot(page, "case-closed")


def test_a_hold_needs_a_second_approver(
    web_server: LiveServer, sign_in: SignIn, parties: WorldParties
) -> None:
    body = shipment_payload("WEB-H-1", consignee=parties.listed, declared_end_use=WEAPONS)
    result = score(web_server, body)
    assert result["action"] == "hold", result
    ana = sign_in("ana")
    _open_case(ana, "WEB-H-1")
    expect(ana.locator("#summary")).to_contain_text("hold")
    screening = {row[0]: row for row in _rows(_section(ana, "Screening").locator("table"))}
    consignee = screening["consignee"]
    assert consignee[1] == parties.listed["name"]
    assert (consignee[2], consignee[3]) in parties.listed_entries  # one of the world's entries of it
    assert float(consignee[5]) >= 0.9
    codes = _section(ana, "Hard rules").locator("li strong").all_inner_texts()
    assert "END-USE-WEAPONS" in codes

    _decide(ana, "deny", "consignee is listed; missile end use")
    expect(ana.locator("#status")).to_have_text("awaiting_approval")
    expect(ana.locator("#four-eyes")).to_have_text(
        "deny by ana awaits the approval of a supervisor other than ana (four-eyes)."
    )
    expect(ana.locator("form#decide")).to_have_count(0)
    expect(ana.locator("form#approve")).to_have_count(0)  # an analyst cannot approve
    screenshot(ana, "hold-awaiting")

    sue = sign_in("sue")
    _open_case(sue, "WEB-H-1")
    approve = sue.locator("form#approve")
    approve.get_by_label("approval").select_option("approve")
    approve.get_by_label("comment").fill("agreed: listed consignee")
    approve.get_by_role("button", name="submit").click()
    expect(sue.locator("#status")).to_have_text("closed")
    expect(sue.locator("#summary")).to_contain_text("decided deny by ana, approved by sue")
    history = _history(sue)
    assert [row[2:4] for row in history][-2:] == [["ana", "decision"], ["sue", "approved"]]
    details = _details(sue)
    assert (details[-2]["decision"], details[-2]["needs_approval"]) == ("deny", "true")
    assert details[-1] == {"approved": "true", "comment": "agreed: listed consignee", "decided_by": "ana",
                           "decision": "deny"}  # fmt: skip


def test_a_supervisor_cannot_approve_her_own_decision(web_server: LiveServer, sign_in: SignIn) -> None:
    result = score(web_server, shipment_payload("WEB-H-2", declared_end_use=WEAPONS))
    assert result["action"] == "hold", result
    sue = sign_in("sue")
    _open_case(sue, "WEB-H-2")
    _decide(sue, "release", "licence on file")
    expect(sue.locator("#four-eyes")).to_contain_text("a supervisor other than sue")
    expect(sue.locator("form#approve")).to_have_count(0)  # not offered to the decider

    sam = sign_in("sam")
    _open_case(sam, "WEB-H-2")
    approve = sam.locator("form#approve")
    approve.get_by_label("approval").select_option("send back")
    approve.get_by_role("button", name="submit").click()
    expect(sam.locator("#status")).to_have_text("in_review")  # sent back: the decision is withdrawn
    expect(sam.locator("#four-eyes")).to_have_count(0)
    assert _history(sam)[-1][2:4] == ["sam", "approval_refused"]


_NUMBER = re.compile(r"[+-]?\d+\.\d+")


def _number(locator: Locator) -> float:
    match = _NUMBER.search(locator.inner_text())
    assert match, locator.inner_text()
    return float(match.group())


def test_explanation_contributions_add_up_to_the_log_odds(web_server: LiveServer, sign_in: SignIn) -> None:
    result = score(web_server, shipment_payload("WEB-E-1", declared_end_use=WEAPONS))
    api: dict[str, Any] = web_server.client("ana").get(f"/v1/scores/{result['score_id']}/explanation").json()
    page = sign_in("ana")
    _open_case(page, "WEB-E-1")
    page.get_by_role("link", name=re.compile(r"all \d+ contributions")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Why shipment WEB-E-1 scored {result['risk']:.3f}"
    )
    expect(page.locator("#rules")).to_contain_text("END-USE-WEAPONS")  # why a hold whatever the risk

    rows = _rows(page.locator("#contributions"))
    shown = {row[0].split("\n")[0]: float(row[2]) for row in rows}
    assert set(shown) == set(api["contributions"])
    for feature, value in api["contributions"].items():
        assert shown[feature] == pytest.approx(value, abs=5e-5)
    magnitudes = [abs(v) for v in shown.values()]
    assert magnitudes == sorted(magnitudes, reverse=True)  # largest first

    base, total, log_odds = (_number(page.locator(s)) for s in ("#base-value", "#total", "#log-odds"))
    assert base == pytest.approx(api["base_value"], abs=5e-5)
    assert log_odds == pytest.approx(api["log_odds"], abs=5e-5)
    assert total == log_odds  # the sum the page states equals the model's log-odds to the shown digits
    # and the rows on the page add up too (each is rounded to 4 decimals)
    assert base + math.fsum(shown.values()) == pytest.approx(log_odds, abs=5e-5 * (len(rows) + 2))
    value_of = {row[0].split("\n")[0]: row[1] for row in rows}
    assert value_of["end_use_mentions_weapons"] == "1"  # the feature values are shown as well
    screenshot(page, "explanation")

    page.goto("/ui/scores/sc_nope")
    expect(page.locator(".error")).to_have_text("no score 'sc_nope'")
