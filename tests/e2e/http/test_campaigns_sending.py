"""Campaigns sending end to end on the real stack (PostgreSQL, Redis, the HTTP API), with in-memory providers and
the worker's jobs run in the test: a pause at about 30 % that takes effect within one batch and a resume that
sends everyone exactly once; A/B tests on SMS (clicks on short links) and e-mail (opens of the pixel) decided for
the better variant, whose content the remainder receives; scanner clicks stored but not counted as people's; and
the 409s of illegal status moves and late edits."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer
from tests.e2e.http.campaigns_support import (
    CHROME,
    SCANNER,
    Worker,
    all_recipients,
    fake_senders,
    fast_engine,
    path_of,
    public_client,
    references,
    seed_book,
    signed_in_again,
)

Client = httpx.AsyncClient
SMS_BODY = "Dear {name}, your policy {policy_number} is due on {renewal_date}."
BATCH = 20


async def create(client: Client, body: dict[str, Any]) -> str:
    created = await client.post("/api/campaigns", json=body)
    assert created.status_code == 201, created.text
    [campaign] = created.json()["data"]["campaigns"]
    ident: str = campaign["id"]
    return ident


async def status_of(client: Client, ident: str) -> dict[str, Any]:
    response = await client.get(f"/api/campaigns/{ident}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def analytics_of(client: Client, ident: str) -> dict[str, Any]:
    response = await client.get(f"/api/campaigns/{ident}/analytics")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def put_status(client: Client, ident: str, status: str) -> httpx.Response:
    return await client.put(f"/api/campaigns/{ident}/status", json={"status": status})


def nonzero(counters: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in counters.items() if n}


def by_status(recipients: list[dict[str, Any]]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for recipient in recipients:
        counted[recipient["status"]] = counted.get(recipient["status"], 0) + 1
    return counted


async def test_a_pause_at_a_third_stops_within_one_batch_and_the_resume_sends_everyone_once(
        client: Client, sql_container: AppContainer, clock: FixedClock) -> None:
    sms, _ = fake_senders(sql_container)
    fast_engine(sql_container, batch_size=BATCH, batches_per_job=3)
    await seed_book(sql_container, 200)
    ident = await create(client, {"name": "Pause me", "type": "sms", "targetAudience": "all",
                                  "content": {"sms": SMS_BODY}})
    assert nonzero((await status_of(client, ident))["recipients"]) == {"pending": 200, "total": 200}
    worker = Worker(sql_container)

    paused: list[int] = []

    async def pause() -> None:  # a person pauses while the worker is in the middle of its 4th batch
        paused.append(len(sms.sent))
        response = await put_status(client, ident, "paused")
        assert response.status_code == 200, response.text

    sms.hook, sms.at = pause, 65
    outcomes = await worker.run_jobs()
    assert paused == [65]
    stopped_at = len(sms.sent)
    assert 65 <= stopped_at < 65 + BATCH  # the batch in flight ends, no other starts
    assert outcomes[-1].outcome == "stopped" and [o.outcome for o in outcomes[:-1]] == ["sent"] * (len(outcomes) - 1)
    view = await status_of(client, ident)
    assert (view["status"], view["pausedReason"]) == ("paused", "manual")
    assert view["recipients"]["sent"] == stopped_at and view["recipients"]["pending"] == 200 - stopped_at

    clock.advance(timedelta(minutes=10))  # paused stays paused: neither the cron nor a stray job sends
    assert await sql_container.campaigns.engine().start_due(clock.now()) == 0
    assert await worker.run_jobs() == [] and len(sms.sent) == stopped_at

    resumed = await put_status(client, ident, "active")
    assert resumed.status_code == 200 and resumed.json()["data"]["status"] == "active"
    outcomes = await worker.run_jobs()
    assert outcomes and outcomes[-1].outcome == "completed"
    assert sum(o.sent for o in outcomes) == 200 - stopped_at and all(o.failed == 0 for o in outcomes)

    recipients = await all_recipients(client, ident)
    sends = references(sms)
    assert len(recipients) == 200 and set(sends) == {f"cr-{r['id']}" for r in recipients}
    assert set(sends.values()) == {1}  # every recipient got exactly one message
    by_id = {f"cr-{r['id']}": r for r in recipients}
    for provider_id, message in sms.sent:
        recipient = by_id[message.reference or ""]
        assert (recipient["providerMessageId"], recipient["address"]) == (provider_id, message.to)
        assert re.fullmatch(r"Dear [A-Za-z]+ Rao[A-Z]{2}, your policy \S+ is due on \d{4}-\d\d-\d\d\.", message.body)
    view = await status_of(client, ident)
    assert view["status"] == "completed" and view["completedAt"]
    assert nonzero(view["recipients"]) == {"sent": 200, "total": 200} == {**by_status(recipients),
                                                                          "total": len(recipients)}
    metrics = (await analytics_of(client, ident))["metrics"]
    assert (metrics["sent"], metrics["failed"], metrics["pending"], metrics["unknown"]) == (200, 0, 0, 0)


async def test_an_illegal_status_move_and_a_late_edit_are_409s_naming_the_current_status(
        client: Client, sql_container: AppContainer) -> None:
    sms, _ = fake_senders(sql_container)
    fast_engine(sql_container, batch_size=BATCH, batches_per_job=3)
    await seed_book(sql_container, 3)
    draft = await create(client, {"name": "Draft", "type": "sms", "targetAudience": "all",
                                  "content": {"sms": SMS_BODY}, "launch": False})
    assert (await status_of(client, draft))["status"] == "draft"
    never_started = await put_status(client, draft, "paused")
    assert never_started.status_code == 409, never_started.text
    assert never_started.json()["error"]["currentStatus"] == "draft" and "draft" in never_started.json()["error"][
        "message"]
    assert (await client.patch(f"/api/campaigns/{draft}", json={"name": "Draft, renamed"})).status_code == 200

    assert (await put_status(client, draft, "active")).status_code == 200
    late = await client.patch(f"/api/campaigns/{draft}", json={"content": "Another text"})
    assert late.status_code == 409 and late.json()["error"]["currentStatus"] == "active"
    await Worker(sql_container).run_jobs()
    assert len(sms.sent) == 3 and {m.body for _, m in sms.sent} != {"Another text"}
    for target in ("paused", "active", "cancelled"):
        refused = await put_status(client, draft, target)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["currentStatus"] == "completed"
    late = await client.patch(f"/api/campaigns/{draft}", json={"name": "Too late"})
    assert late.status_code == 409 and late.json()["error"]["currentStatus"] == "completed"
    view = await status_of(client, draft)
    assert (view["name"], view["status"]) == ("Draft, renamed", "completed")


SHORT_LINK = re.compile(r"https?://[^\s/]+/s/[A-Za-z0-9_\-.~]+")
PIXEL_SRC = re.compile(r'<img src="(https?://[^"]+/t/o/[^"]+)"')
CLICK_HREF = re.compile(r'href="(https?://[^"]+/t/c/[^"]+)"')


def arms(recipients: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The recipients by arm: `held_out`, `waiting` (the remainder) or the test variant's name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for recipient in recipients:
        arm = recipient["variant"] if recipient["status"] not in ("held_out", "waiting") else recipient["status"]
        found.setdefault(arm, []).append(recipient)
    return found


async def test_an_sms_ab_test_goes_to_the_variant_people_click_and_the_remainder_gets_its_text(
        client: Client, sql_container: AppContainer, clock: FixedClock) -> None:
    sms, _ = fake_senders(sql_container)
    fast_engine(sql_container, batch_size=BATCH, batches_per_job=2)
    await seed_book(sql_container, 150)
    ident = await create(client, {
        "name": "Which text", "type": "sms", "targetAudience": "all", "content": {"sms": SMS_BODY},
        "abTest": {"variants": [
            {"name": "A", "splitPercent": 50, "content": "A: Dear {name}, renew {policy_number} at https://pay.example.in/a"},
            {"name": "B", "splitPercent": 50, "content": "B: {name}, one tap renews {policy_number}: https://pay.example.in/b"}],
            "holdoutPercent": 10, "testPercent": 40, "waitMinutes": 60, "metric": "click"}})
    worker = Worker(sql_container)
    outcomes = await worker.run_jobs()
    assert outcomes[-1].outcome == "waiting"
    split = arms(await all_recipients(client, ident))
    assert set(split) == {"A", "B", "held_out", "waiting"} and all(len(group) >= 5 for group in split.values())
    variant_of = {f"cr-{r['id']}": r["variant"] for name in ("A", "B") for r in split[name]}
    assert set(references(sms)) == set(variant_of) and set(references(sms).values()) == {1}
    for _, message in sms.sent:
        assert message.body.startswith(f"{variant_of[message.reference or '']}: ")
        assert "pay.example.in" not in message.body  # the link is a short link to us

    clock.advance(timedelta(minutes=5))  # the people click minutes later; a link scanner clicks all of A's
    browser, scanner = public_client(client, CHROME), public_client(client, SCANNER)
    clicks = {"A": 0, "B": 0}
    for number, (_, message) in enumerate(sms.sent):
        variant = variant_of[message.reference or ""]
        [link] = SHORT_LINK.findall(message.body)
        if variant == "A":
            assert (await scanner.get(path_of(link))).status_code == 302
        if number % 4 == 0 or (variant == "B" and number % 4 != 3):  # ~1 in 4 of A, ~3 in 4 of B
            visit = await browser.get(path_of(link))
            assert visit.status_code == 302 and visit.headers["location"] == f"https://pay.example.in/{variant.lower()}"
            clicks[variant] += 1
    assert 0 < clicks["A"] < clicks["B"]
    assert await sql_container.campaigns.ab_decider().decide_due(clock.now()) == 0  # 55 minutes of 60 waited
    clock.advance(timedelta(minutes=56))
    assert await sql_container.campaigns.ab_decider().decide_due(clock.now()) == 1
    await signed_in_again(client, sql_container)

    decision = (await analytics_of(client, ident))["abTest"]
    assert (decision["winner"], decision["metric"]) == ("B", "click")
    assert decision["stats"] == {"A": {"exposed": len(split["A"]), "successes": clicks["A"]},
                                 "B": {"exposed": len(split["B"]), "successes": clicks["B"]}}
    assert (await status_of(client, ident))["abTest"]["decision"]["winner"] == "B"
    tested = len(sms.sent)
    outcomes = await worker.run_jobs()
    assert outcomes and outcomes[-1].outcome == "completed"
    remainder = {f"cr-{r['id']}" for r in split["waiting"]}
    assert set(references(sms)) == set(variant_of) | remainder and set(references(sms).values()) == {1}
    for _, message in sms.sent[tested:]:
        assert message.reference in remainder and message.body.startswith("B: ")
    after = await all_recipients(client, ident)
    assert {r["variant"] for r in after if f"cr-{r['id']}" in remainder} == {"B"}
    assert by_status(after) == {"sent": len(sms.sent), "held_out": len(split["held_out"])}
    metrics = (await analytics_of(client, ident))["metrics"]
    assert (metrics["sent"], metrics["heldOut"], metrics["humanClicked"]) == (
        len(sms.sent), len(split["held_out"]), clicks["A"] + clicks["B"])
    assert metrics["clicked"] == len(split["A"]) + clicks["B"]  # raw: every A was clicked by the scanner
    await browser.aclose()
    await scanner.aclose()


async def test_an_email_ab_test_goes_to_the_subject_people_open_and_the_remainder_gets_it(
        client: Client, sql_container: AppContainer, clock: FixedClock) -> None:
    _, email = fake_senders(sql_container)
    fast_engine(sql_container, batch_size=BATCH, batches_per_job=2)
    await seed_book(sql_container, 120)
    content = '<p>Dear {name}, <a href="https://pay.example.in/r?p={policy_number}">renew now</a>.</p>'
    ident = await create(client, {
        "name": "Which subject", "type": "email", "targetAudience": "all", "subject": "Renewal due",
        "content": {"email": content},
        "abTest": {"variants": [{"name": "Plain", "splitPercent": 50, "subject": "Policy {policy_number} is due"},
                                {"name": "Warm", "splitPercent": 50, "subject": "{name}, your cover ends soon"}],
                   "testPercent": 50, "waitMinutes": 240, "metric": "open"}})
    worker = Worker(sql_container)
    assert (await worker.run_jobs())[-1].outcome == "waiting"
    split = arms(await all_recipients(client, ident))
    assert set(split) == {"Plain", "Warm", "waiting"}
    variant_of = {f"cr-{r['id']}": r["variant"] for name in ("Plain", "Warm") for r in split[name]}
    sent = [(message.tags["reference"], message) for _, message in email.sent]
    assert sorted(ref for ref, _ in sent) == sorted(variant_of)

    clock.advance(timedelta(minutes=30))
    reader, apple = public_client(client, CHROME), public_client(client, "Mozilla/5.0")  # Apple Mail Privacy
    opens = {"Plain": 0, "Warm": 0}
    for number, (reference, message) in enumerate(sent):
        variant = variant_of[reference]
        assert message.subject.startswith("Policy ") if variant == "Plain" else message.subject.endswith("ends soon")
        [pixel] = PIXEL_SRC.findall(message.html or "")
        if variant == "Plain":  # the proxy fetches every image of Plain's readers: not an open by a person
            assert (await apple.get(path_of(pixel))).status_code == 200
        if number % 5 == 0 or (variant == "Warm" and number % 5 in (1, 2)):
            assert (await reader.get(path_of(pixel))).status_code == 200
            opens[variant] += 1
    assert 0 < opens["Plain"] < opens["Warm"]
    clock.advance(timedelta(hours=4))
    assert await sql_container.campaigns.ab_decider().decide_due(clock.now()) == 1
    await signed_in_again(client, sql_container)

    data = await analytics_of(client, ident)
    assert (data["abTest"]["winner"], data["abTest"]["metric"]) == ("Warm", "open")
    assert data["abTest"]["rates"]["Warm"] > data["abTest"]["rates"]["Plain"]
    assert [v["variant"] for v in data["topPerformingContent"] if v["kind"] == "variant"] == ["Warm", "Plain"]
    tested = len(email.sent)
    assert (await worker.run_jobs())[-1].outcome == "completed"
    remainder = {f"cr-{r['id']}" for r in split["waiting"]}
    late = [message for _, message in email.sent[tested:]]
    assert sorted(m.tags["reference"] for m in late) == sorted(remainder)
    for message in late:
        assert message.subject.endswith(", your cover ends soon") and "renew now" in (message.html or "")
    metrics = (await analytics_of(client, ident))["metrics"]
    assert (metrics["sent"], metrics["humanOpened"]) == (120, opens["Plain"] + opens["Warm"])
    assert metrics["machineOpens"] == {"privacy_proxy": len(split["Plain"])}
    await reader.aclose()
    await apple.aclose()


async def test_a_scanner_click_at_delivery_is_kept_but_only_the_person_minutes_later_counts(
        client: Client, sql_container: AppContainer, clock: FixedClock) -> None:
    _, email = fake_senders(sql_container)
    fast_engine(sql_container, batch_size=BATCH, batches_per_job=2)
    await seed_book(sql_container, 3)
    content = '<p>Dear {name}, <a href="https://pay.example.in/r?p={policy_number}">renew now</a>.</p>'
    ident = await create(client, {"name": "Scanned", "type": "email", "targetAudience": "all",
                                  "subject": "Renewal due", "content": {"email": content}})
    assert (await Worker(sql_container).run_jobs())[-1].outcome == "completed"
    links = {message.tags["reference"]: CLICK_HREF.findall(message.html or "") for _, message in email.sent}
    pixels = {message.tags["reference"]: PIXEL_SRC.findall(message.html or "") for _, message in email.sent}
    first, second, third = sorted(links, key=lambda ref: int(ref.removeprefix("cr-")))
    gateway, browser = public_client(client, SCANNER), public_client(client, CHROME)
    apple = public_client(client, "Mozilla/5.0")

    clock.advance(timedelta(seconds=1))  # the mail gateway scans at delivery: by its agent, and by its timing
    assert (await gateway.get(path_of(links[first][0]))).status_code == 302
    assert (await browser.get(path_of(links[second][0]))).status_code == 302
    assert (await apple.get(path_of(pixels[third][0]))).status_code == 200
    scanned = {r["id"]: r for r in await all_recipients(client, ident)}
    assert all(r["clickedAt"] is None and r["openedAt"] is None for r in scanned.values())
    clock.advance(timedelta(minutes=5))  # the person reads and clicks
    clicked = await browser.get(path_of(links[first][0]))
    assert clicked.status_code == 302 and clicked.headers["location"].startswith("https://pay.example.in/r?p=")

    recipients = {f"cr-{r['id']}": r for r in await all_recipients(client, ident)}
    assert recipients[first]["clickedAt"] == recipients[first]["openedAt"] == "2026-11-28T09:05:01Z"
    assert (recipients[second]["clickedAt"], recipients[third]["openedAt"]) == (None, None)
    data = await analytics_of(client, ident)
    metrics = data["metrics"]
    assert (metrics["clicked"], metrics["humanClicked"], metrics["clickRate"], metrics["humanClickRate"]) == (
        2, 1, 66.7, 33.3)
    assert (metrics["opened"], metrics["humanOpened"], metrics["rateBase"]) == (2, 1, "sent")
    assert (metrics["machineClicks"], metrics["machineOpens"]) == ({"scanner": 2}, {"privacy_proxy": 1})
    assert data["topPerformingContent"] == [{"kind": "link", "link": "https://pay.example.in/r?p={policy_number}",
                                             "clicks": 3, "humanClicks": 1, "uniqueHumanClicks": 1}]
    for session in (gateway, browser, apple):
        await session.aclose()
