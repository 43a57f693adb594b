"""reconciler.report.jsonlog: apply's and drift's JSON lines for log pipelines."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from catalog.secrets import register_secret
from reconciler.report.jsonlog import JsonLog, drift_events, event_line, timestamp
from tests.unit.report_plans import conflicted, mixed_plan, results

STEP_FIELDS = {"time", "target", "image", "action", "duration_s", "bytes", "result", "error"}
AT = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def logged(quiet: bool = False) -> tuple[JsonLog, list[str]]:
    lines: list[str] = []
    return JsonLog(lines.append, "local", quiet=quiet, clock=lambda: AT), lines


def test_every_step_is_one_line_of_json_with_the_fields_log_pipelines_read() -> None:
    log, lines = logged()
    report = results(mixed_plan(), failing="c")
    for result in report.results:
        log.step(result)
    log.summary(report)
    events = [json.loads(line) for line in lines]
    assert len(events) == len(report.results) + 1 and all("\n" not in line for line in lines)
    steps = events[:-1]
    assert all(set(event) >= STEP_FIELDS for event in steps)
    upload = next(event for event in steps if event["action"] == "upload")
    assert upload == {
        "time": "2026-05-01T12:00:00.123Z",
        "event": "step",
        "target": "local",
        "image": upload["image"],
        "version": None,
        "image_id": upload["image_id"],
        "action": "upload",
        "duration_s": 1.25,
        "bytes": 3 * 1024 * 1024,
        "result": "done",
        "error": None,
    }
    failed = next(event for event in steps if event["result"] == "failed")
    assert failed["image"] == "c" and failed["error"] == "image 'c': Glance said no"
    summary = events[-1]
    assert summary["event"] == "summary" and summary["result"] == "failed"
    assert (summary["created"], summary["updated"], summary["replaced"]) == (1, 0, 1)
    assert summary["failed_images"] == ["c"] and summary["steps_failed"] == 1


def test_quiet_keeps_only_the_steps_that_did_not_succeed() -> None:
    log, lines = logged(quiet=True)
    for result in results(mixed_plan(), failing="g").results:
        log.step(result)
    assert [json.loads(line)["result"] for line in lines] == ["failed"]
    assert log.upload_progress("any") is None


def test_the_plan_and_its_conflicts_and_errors_are_events_too() -> None:
    log, lines = logged()
    log.plan(conflicted(mixed_plan()))
    log.error(("cloud refused", "nothing was changed"))
    plan, conflict, error = (json.loads(line) for line in lines)
    assert (plan["event"], plan["create"], plan["replace"], plan["conflicts"]) == ("plan", 1, 1, 1)
    assert conflict["event"] == "conflict" and conflict["position"] == "m.yaml:3:5"
    assert conflict["error"] == "m.yaml:3:5: image 'x': boom (hint: fix it)"
    assert error["error"] == "cloud refused nothing was changed"


def test_drift_is_one_event_per_planned_action_then_a_verdict() -> None:
    events = drift_events(mixed_plan(), "local", AT)
    assert {event["result"] for event in events[:-1]} == {"drift"}
    assert all(set(event) >= STEP_FIELDS for event in events[:-1])
    assert events[-1]["event"] == "summary" and events[-1]["result"] == "drifted"
    assert events[-1]["drifted_images"] == 4
    assert drift_events(conflicted(mixed_plan()), "local", AT)[-1]["result"] == "conflicts"


def test_secrets_are_redacted_and_the_line_stays_json() -> None:
    register_secret("hunter2-secret")
    line = event_line({"error": 'token "hunter2-secret" at https://u:p@host/x?sig=1'})
    assert "hunter2-secret" not in line and "u:p@" not in line and "sig=1" not in line
    assert json.loads(line)["error"].startswith('token "***" at https://')
    assert timestamp(AT) == "2026-05-01T12:00:00.123Z"


def test_lines_from_many_threads_never_interleave() -> None:
    log, lines = logged()
    result = results(mixed_plan()).results[0]

    def many() -> None:
        for _ in range(50):
            log.step(result)

    threads = [threading.Thread(target=many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lines) == 200 and all(json.loads(line)["action"] == "reserve" for line in lines)


def test_the_logs_of_several_targets_share_one_writer() -> None:
    log, lines = logged()
    other = log.for_target("prod-b")
    result = results(mixed_plan()).results[0]
    log.step(result)
    other.step(result)
    assert [json.loads(line)["target"] for line in lines] == ["local", "prod-b"]
