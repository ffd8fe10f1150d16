"""Progress of long work (core.progress): a redrawn bar on a terminal, periodic lines with rate and ETA
elsewhere, and nothing for work too short to need it."""

from __future__ import annotations

import io

from codeinstruct.core import progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_mode_writes_a_line_at_most_every_interval_with_rate_and_eta() -> None:
    clock, lines = Clock(), []
    reporter = progress.Reporter(emit=lines.append, interval_s=10.0, clock=clock)
    task = progress.Task("semi_instruct", 12, "seed", reporter, clock=clock)
    for done in range(1, 13):
        clock.now += 4.0  # one seed every 4 s: a line every 10 s at most
        task.update(done, note=f"{2 * done} records")
    task.close()
    progress_lines, final = lines[:-1], lines[-1]
    assert len(progress_lines) == 3  # at 12, 24, 36 s (after the 3rd, 6th, 9th seed); at 48 s the last line
    assert progress_lines[0] == "semi_instruct: 3/12 seeds (25%), 4.0 s/seed, ETA 36s; 6 records"
    assert final == "semi_instruct: 12/12 seeds done in 48s, 4.0 s/seed; 24 records"


def test_slow_work_shows_seconds_per_unit_and_minutes() -> None:
    clock, lines = Clock(), []
    reporter = progress.Reporter(emit=lines.append, interval_s=5.0, clock=clock)
    task = progress.Task("train", 300, "step", reporter, clock=clock)
    clock.now += 200.0
    task.update(2)
    assert lines == ["train: 2/300 steps (1%), 100 s/step, ETA 8h16m"]


def test_work_shorter_than_the_interval_stays_quiet() -> None:
    clock, lines = Clock(), []
    reporter = progress.Reporter(emit=lines.append, interval_s=10.0, clock=clock)
    with progress.Task("dedup", 3, "record", reporter, clock=clock) as task:
        for _ in range(3):
            clock.now += 1.0
            task.advance()
    assert lines == []


def test_a_non_terminal_stream_gets_lines_not_carriage_returns() -> None:
    stream = io.StringIO()
    clock = Clock()
    reporter = progress.Reporter(stream=stream, interval_s=0.0, clock=clock)
    assert not reporter.tty
    task = progress.Task("execute", 2, "record", reporter, clock=clock)
    clock.now += 1
    task.advance()
    task.close()
    assert "\r" not in stream.getvalue()
    assert stream.getvalue().splitlines() == ["execute: 1/2 records (50%), 1.0 records/s, ETA 1s",
                                              "execute: 1/2 records done in 1s, 1.0 records/s"]


def test_a_terminal_gets_a_redrawn_bar_with_rate() -> None:
    stream = Terminal()
    reporter = progress.Reporter(stream=stream, bar_delay_s=0.0)
    assert reporter.tty
    with progress.reporting(reporter), progress.track("generate", total=4, unit="seed") as task:
        for _ in range(4):
            task.advance(note="1 record")
    text = stream.getvalue()
    assert "\r" in text and "generate" in text and "4/4" in text
    assert "seed/s" in text or "s/seed" in text
    assert "1 record" in text


def test_tasks_are_silent_without_a_reporter() -> None:
    assert progress.current() is None
    with progress.track("anything", total=2) as task:
        task.advance(2)  # no reporter installed (a gRPC server): nothing to show, nothing fails


def test_phase_events_become_one_task_per_phase_and_reach_the_callback() -> None:
    lines: list[str] = []
    seen: list[dict[str, object]] = []
    with progress.reporting(progress.Reporter(emit=lines.append, interval_s=0.0)):
        phases = progress.Phases("humaneval", {"generating": "problem", "scoring": "sample"}, then=seen.append)
        phases({"phase": "generating", "done": 8, "total": 16})
        phases({"phase": "scoring", "done": 8, "total": 16})
        phases.close()
    assert [e["phase"] for e in seen] == ["generating", "scoring"]
    assert any(line.startswith("humaneval generating: 8/16 problems") for line in lines)
    assert any(line.startswith("humaneval scoring: 8/16 samples") for line in lines)


def test_durations_read_like_a_person_writes_them() -> None:
    assert [progress.duration(s) for s in (0, 42, 185, 3720)] == ["0s", "42s", "3m05s", "1h02m"]


def test_a_long_batch_still_shows_a_line_every_heartbeat() -> None:
    clock, lines = Clock(), []
    reporter = progress.Reporter(emit=lines.append, interval_s=10.0, heartbeat_s=30.0, clock=clock)
    task = progress.Task("semi_instruct", 12, "seed", reporter, clock=clock)
    clock.now += 20.0
    reporter.beat()
    assert lines == []  # nothing is due before the heartbeat
    clock.now += 15.0
    reporter.beat()
    assert lines == ["semi_instruct: 0/12 seeds (0%); still working, 35s since the start"]
    task.update(1)
    task.activity = lambda: "3 model calls"
    clock.now += 31.0
    reporter.beat()
    assert lines[-1] == ("semi_instruct: 1/12 seeds (8%), 66 s/seed, ETA 12m06s; "
                         "still working, 31s since the last seed (3 model calls)")
    task.close()
    reporter.beat()
    assert lines[-1] == "semi_instruct: 1/12 seeds done in 1m06s, 66 s/seed"
    assert len(lines) == 3  # a closed task gets no more heartbeats


def test_a_sandbox_stage_reports_through_the_installed_reporter() -> None:
    from codeinstruct.core.records import Record
    from codeinstruct.scoring.validation import execution_filter

    records = [Record(method="inverse_instruct", task="summarization", instruction=f"Explain {i}.",
                      response=f"It adds {i}.") for i in range(3)]
    lines: list[str] = []
    with progress.reporting(progress.Reporter(emit=lines.append, interval_s=0.0, heartbeat_s=None)):
        report = execution_filter(records, sandbox=object())  # type: ignore[arg-type]  # nothing to run
    assert len(report.kept) == 3
    assert lines[0].startswith("execution_filter: 1/3 records (33%), ")
    assert lines[-1].startswith("execution_filter: 3/3 records done in ") and lines[-1].endswith("; 3 kept")


def test_a_scope_names_the_shard_the_work_belongs_to() -> None:
    lines: list[str] = []
    with progress.reporting(progress.Reporter(emit=lines.append, interval_s=0.0, heartbeat_s=None)):
        with progress.scope("shard 2/4"), progress.track("semi_instruct", total=2, unit="seed") as task:
            task.advance()
        with progress.track("dedup", total=1) as other:
            other.advance()  # done at its first update: its caller's summary line is enough
    assert lines[0].startswith("semi_instruct (shard 2/4): 1/2 seeds (50%)")
    assert lines[-1].startswith("semi_instruct (shard 2/4): 1/2 seeds done in")
    assert not any(line.startswith("dedup") for line in lines)


def test_a_generation_job_reports_per_seed_with_records_so_far(tmp_path) -> None:
    import json

    from codeinstruct.generation.run import run_generation
    from tests.generation.test_evol_rounds import HashEngine, config, seeds

    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in seeds(6)), encoding="utf-8")
    lines: list[str] = []
    with progress.reporting(progress.Reporter(emit=lines.append, interval_s=0.0, heartbeat_s=None)):
        summary = run_generation("evol_instruct", path, tmp_path / "out.jsonl", config(), engine=HashEngine())
    assert lines[0].startswith("evol_instruct: 1/6 seeds (17%), ")
    assert lines[-1].startswith("evol_instruct: 6/6 seeds done in ")
    assert lines[-1].endswith(f"; {summary['records_written']} records")


def test_a_terminal_bar_does_not_flash_for_work_shorter_than_its_delay() -> None:
    stream = Terminal()
    reporter = progress.Reporter(stream=stream, bar_delay_s=60.0)
    with progress.reporting(reporter), progress.track("verify", total=8, unit="record") as task:
        task.advance(8)
    assert "verify" not in stream.getvalue()
