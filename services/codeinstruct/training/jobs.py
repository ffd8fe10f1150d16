"""Training and evaluation jobs as long-running operations, kept in a small persistent store.

Each job is a folder `<jobs_dir>/<id>/`: `job.json` (what the manager decided: kind, spec, state,
process id), `status.json` (what the worker reports: progress, metrics, result) and `worker.log`.
Both are written atomically, so a job survives a restart of the service: a new `JobManager` on the
same folder finds its jobs, re-attaches to workers that are still running (they run in their own
session and outlive the service) and settles those that ended meanwhile.

Backends: `local` starts `python -m codeinstruct.training.worker <job dir>` as a subprocess; cancel
sends SIGTERM to its process group (the trainer checkpoints and exits), then SIGKILL after
`cancel_grace_s`, and reaps it. `kubernetes` submits a Kubeflow Trainer TrainJob (see
`codeinstruct.training.kubernetes`) and follows its conditions.

Example:
    manager = JobManager(TrainingConfig(jobs=JobsConfig(jobs_dir=Path("/tmp/jobs"))))
    job = manager.create("train", {"data": "data.jsonl", "output_dir": "out", "config": {"max_steps": 3}})
    for snapshot in manager.watch(job.id):
        print(snapshot.state, snapshot.message)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from codeinstruct.core import deadline, env
from codeinstruct.core.errors import DeadlineExceeded, FailedPrecondition, InvalidInput, NotFound
from codeinstruct.core.jsontypes import JsonObject
from codeinstruct.core.records import Record, write_jsonl_atomic, write_text_atomic
from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.server.validate import in_range
from codeinstruct.training import listing, requests
from codeinstruct.training.config import TrainingConfig
from codeinstruct.training.jobinfo import (
    JobInfo,
    JobState,
    StageSpec,
    TrainingJobsLike,
    parse_name,
    request_digest,
    stage_spec,
)

# The job types live in `jobinfo`; callers import them from here too.
__all__ = ["JobInfo", "JobManager", "JobState", "StageSpec", "TrainingJobsLike", "parse_name"]

logger = logging.getLogger(__name__)

KINDS = ("train", "evaluate")
POLL_S = 0.25
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _pid_alive(pid: int, job_id: str) -> bool:
    """True when `pid` runs and is our worker for `job_id` (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    zombie = stat.rsplit(")", 1)[-1].split()[0] == "Z"
    return not zombie and "codeinstruct.training.worker" in cmdline and job_id in cmdline


def _record(record: Record | JsonObject, index: int) -> Record:
    if isinstance(record, Record):
        return record
    try:
        return Record.from_dict(dict(record))
    except InvalidInput as exc:
        field = f"records[{index}]"
        raise InvalidInput(f"{field}: {exc.message}", field=f"{field}.{exc.field}" if exc.field else field,
                           reason="INVALID_RECORD") from None


class JobManager:
    """Creates, tracks, cancels and watches jobs; one per service process."""

    def __init__(self, config: TrainingConfig, *, evaluation_settings: JsonObject | None = None,
                 start_monitor: bool = True):
        """`evaluation_settings`: the `Settings.to_mapping()` evaluation jobs are run with (engine,
        sandbox, training.eval); defaults when not given."""
        self.config = config
        self.evaluation_settings = dict(evaluation_settings or {})
        self.root = config.jobs.job_store
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._stop = threading.Event()
        self._k8s: Any = None
        self._recover()
        self._monitor: threading.Thread | None = None
        if start_monitor:
            self._monitor = threading.Thread(target=self._run_monitor, name="training-jobs", daemon=True)
            self._monitor.start()

    # --- store
    def _dir(self, job_id: str) -> Path:
        return self.root / job_id

    def _save(self, job: JobInfo) -> None:
        job.update_time = time.time()
        write_text_atomic(self._dir(job.id) / "job.json", json.dumps(job.to_dict(), indent=1))

    def _load(self, job_id: str) -> JobInfo:
        path = self._dir(job_id) / "job.json"
        if not path.is_file():
            raise NotFound(f"job jobs/{job_id} does not exist", metadata={"job": job_id})
        return JobInfo.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def _status(self, job_id: str) -> dict[str, Any]:
        path = self._dir(job_id) / "status.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}

    # --- TrainingJobsLike: what the TrainingService and its clients ask for
    def create_training_job(self, *, output_dir: str, data_path: str = "",
                            records: Iterable[Record | JsonObject] = (),
                            config: JsonObject | None = None, stages: Sequence[StageSpec] = (),
                            backend: str = "", request_id: str = "") -> JobInfo:
        """A training job on `data_path` or `records` (written to the job store), with this manager's
        training settings, the request's `config` overrides and its `stages` (also accepted as
        `config["stages"]`). The whole request is checked first (`training.requests`); errors name the
        request fields. A `request_id` seen before returns that request's job (AIP-155)."""
        overrides: dict[str, Any] = dict(config or {})
        raw_stages = list(stages) or [stage_spec(s) for s in overrides.pop("stages", None) or ()]
        inline = [_record(r, index) for index, r in enumerate(records)]
        plain_stages = [{"name": s.get("name") or "", "data": s.get("data") or "",
                         "epochs": float(s.get("epochs") or 0), "learning_rate": float(s.get("learning_rate") or 0)}
                        for s in raw_stages]
        digest = request_digest("train", {"output_dir": output_dir, "data_path": data_path,
                                          "records": [r.to_dict() for r in inline], "config": overrides,
                                          "stages": plain_stages, "backend": backend})
        with self._lock:
            requests.request_id(request_id)
            previous = self._by_request_id(request_id, digest)
            if previous is not None:
                return previous
            chosen = requests.backend(backend, self.config.jobs.backend)
            requests.training_request(output_dir=output_dir, data_path=data_path, n_records=len(inline),
                                      stages=plain_stages, service=self.config, backend_name=chosen)
            requests.training_overrides(overrides)
            if plain_stages:
                overrides["stages"] = [{"name": s["name"] or f"stage{i + 1}", "data": s["data"] or None,
                                        "epochs": s["epochs"] or None, "learning_rate": s["learning_rate"] or None}
                                       for i, s in enumerate(plain_stages)]
            # Resolve (service settings < request) and validate now, so a bad setting fails the request
            # instead of the job; the worker gets the resolved values.
            resolved = requests.resolved_config(self.config, overrides)
            if "model" in overrides:
                requests.model_folder(resolved.model, "config.model")
            data: str | None = data_path or None
            if inline:
                data = str(self.root / "inline" / f"{uuid.uuid4().hex}.jsonl")
                write_jsonl_atomic(data, inline)
            return self.create("train", {"data": data, "output_dir": output_dir, "config": resolved.to_dict(),
                                         "backend": chosen}, request_id=request_id, request_hash=digest)

    def create_evaluation_job(self, model: str, /, *, limit: int | None = None, k: Sequence[int] = (1,),
                              n_samples: int | None = None, output_path: str = "",
                              suites: Sequence[SuiteRequest] = (), request_id: str = "") -> JobInfo:
        """An evaluation job for `model` ('default' or a model folder) on `suites` (none: HumanEval
        as before); None / empty mean the defaults. The result holds one suite result per suite.
        Checked whole first; a `request_id` seen before returns that request's job (AIP-155)."""
        k = list(k) or [1]
        digest = request_digest("evaluate", {"model": model, "limit": limit or 0, "k": k, "n_samples": n_samples or 0,
                                             "output_path": output_path,
                                             "suites": [dataclasses.asdict(s) for s in suites]})
        with self._lock:
            requests.request_id(request_id)
            previous = self._by_request_id(request_id, digest)
            if previous is not None:
                return previous
            requests.evaluation_request(model=model, limit=limit or 0, k=k, n_samples=n_samples or 0,
                                        output_path=output_path, suites=suites)
            return self.create("evaluate", {"model": model, "limit": limit or None, "k": k,
                                            "n_samples": n_samples or None, "output": output_path or None,
                                            "suites": [dataclasses.asdict(s) for s in suites],
                                            "settings": self.evaluation_settings},
                               request_id=request_id, request_hash=digest)

    def _by_request_id(self, request_id: str, digest: str) -> JobInfo | None:
        """The job an earlier request with `request_id` created; REQUEST_ID_REUSED when that request
        differed from this one."""
        if not request_id:
            return None
        for job in self.list():
            if job.request_id == request_id:
                if job.request_hash != digest:
                    raise InvalidInput(f"request_id {request_id!r} was used by a different request (job {job.name}); "
                                       "use a new request_id for a new request", field="request_id",
                                       reason="REQUEST_ID_REUSED", metadata={"job": job.name})
                logger.info("request %s retried: returning job %s", request_id, job.name)
                return job
        return None

    def get_job(self, name: str, /) -> JobInfo:
        return self.get(parse_name(name, strict=True))

    def list_jobs(self, kind: str = "", state: str = "", *, filter: str = "", order_by: str = "") -> list[JobInfo]:
        """Jobs matching `kind` ("train"/"evaluate"), `state` (a JobState value) and `filter`
        (`training.listing`), in `order_by` order (newest first by default)."""
        terms = listing.parse_filter(filter)
        order = listing.parse_order(order_by)
        jobs = [j for j in self.list(kind=kind or None, state=state or None) if listing.matches(j, terms)]
        return listing.sort_jobs(jobs, order)

    def cancel_job(self, name: str, /) -> JobInfo:
        return self.cancel(parse_name(name, strict=True))

    def watch_job(self, name: str, /, timeout: float | None = None) -> Iterator[JobInfo]:
        return self.watch(parse_name(name, strict=True), timeout=timeout)

    def page(self, *, filter: str = "", order_by: str = "", page_size: int = 0,
             page_token: str = "") -> tuple[list[JobInfo], str]:
        """One page of `list_jobs(filter=, order_by=)` and the token of the next page ("" at the end).
        A token is only valid with the filter and order it was issued for."""
        in_range(page_size, "page_size", minimum=0)
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        query = hashlib.sha256(f"{filter}\n{order_by}".encode()).hexdigest()[:8]
        offset = 0
        if page_token:
            number, _, issued_for = page_token.partition(":")
            if not number.isdigit() or issued_for != query:
                raise InvalidInput(f"page_token {page_token!r} was not issued by a ListJobs with this filter and "
                                   "order_by", field="page_token", reason="INVALID_PAGE_TOKEN")
            offset = int(number)
        jobs = self.list_jobs(filter=filter, order_by=order_by)
        token = f"{offset + size}:{query}" if offset + size < len(jobs) else ""
        return jobs[offset:offset + size], token

    # --- public API
    def create(self, kind: str, spec: dict[str, Any], *, request_id: str = "", request_hash: str = "") -> JobInfo:
        """A job of `kind` running `spec` as given (the create_*_job methods check and resolve specs)."""
        if kind not in KINDS:
            raise InvalidInput(f"job kind must be one of {list(KINDS)}, got {kind!r}", field="kind",
                               reason="UNKNOWN_KIND")
        # Evaluation runs next to the service (it needs the engine and the sandbox), whatever the
        # backend of training jobs.
        backend = spec.get("backend") or (self.config.jobs.backend if kind == "train" else "local")
        if backend == "kubernetes" and kind != "train":
            raise InvalidInput("only training jobs run on the kubernetes backend", field="backend",
                               reason="UNKNOWN_BACKEND")
        job = JobInfo(id=f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}", kind=kind,
                      spec=json.loads(json.dumps(spec)), backend=backend, request_id=request_id,
                      request_hash=request_hash)
        self._dir(job.id).mkdir(parents=True)
        with self._lock:
            self._save(job)
            self._schedule()
        logger.info("created %s job %s (%s)", kind, job.name, backend)
        return self.get(job.id)

    def get(self, job_id: str) -> JobInfo:
        job = self._load(parse_name(job_id))
        if job.state in (JobState.RUNNING, JobState.CANCELLING):
            status = self._status(job.id)
            job.progress = float(status.get("progress", job.progress))
            job.message = str(status.get("message", job.message))
            job.metrics = dict(status.get("metrics", job.metrics))
            job.update_time = max(job.update_time, float(status.get("update_time", 0)))
        return job

    def list(self, kind: str | None = None, state: str | None = None) -> list[JobInfo]:
        jobs = []
        for folder in self.root.iterdir():
            if (folder / "job.json").is_file():
                job = self.get(folder.name)
                if (kind is None or job.kind == kind) and (state is None or job.state.value == state):
                    jobs.append(job)
        return sorted(jobs, key=lambda j: (j.create_time, j.id), reverse=True)

    def cancel(self, job_id: str) -> JobInfo:
        job_id = parse_name(job_id)
        with self._lock:
            job = self._load(job_id)
            if job.state.terminal:
                raise FailedPrecondition(f"job {job.name} already ended ({job.state.value})",
                                         metadata={"state": job.state.value})
            if job.state == JobState.QUEUED:
                job.state, job.message = JobState.CANCELLED, "cancelled before it started"
            elif job.state == JobState.RUNNING:
                job.state, job.cancel_requested_at = JobState.CANCELLING, time.time()
                job.message = "cancelling"
                self._signal(job, signal.SIGTERM)
            self._save(job)
        logger.info("cancel requested for %s", job.name)
        return self.get(job_id)

    def watch(self, job_id: str, poll_s: float = POLL_S, timeout: float | None = None) -> Iterator[JobInfo]:
        """Yield a snapshot now and whenever the job changes, until it ends (or `timeout` seconds pass:
        DeadlineExceeded, as a client's watch gets)."""
        end = None if timeout is None else time.monotonic() + timeout
        last: tuple[Any, ...] | None = None
        while True:
            job = self.get(job_id)
            key = (job.state, job.progress, job.message, job.update_time)
            if key != last:
                last = key
                yield job
            if job.state.terminal:
                return
            deadline.check()
            if end is not None and time.monotonic() >= end:
                raise DeadlineExceeded(f"job {job.name} still {job.state.value} after {timeout}s")
            time.sleep(poll_s)

    def wait(self, job_id: str, /, timeout: float | None = None) -> JobInfo:
        """The job once it ended, or its state when `timeout` seconds passed first."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.state.terminal or (end is not None and time.monotonic() >= end):
                return job
            time.sleep(POLL_S)

    def close(self) -> None:
        """Stop monitoring; running workers keep running and are re-attached by the next manager."""
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=5)

    # --- lifecycle
    def _recover(self) -> None:
        """After a restart: keep live workers, settle jobs whose worker ended while we were away."""
        for folder in sorted(self.root.iterdir()):
            if not (folder / "job.json").is_file():
                continue
            job = self._load(folder.name)
            if job.state not in (JobState.RUNNING, JobState.CANCELLING) or job.backend != "local":
                continue
            if job.pid and _pid_alive(job.pid, job.id):
                logger.info("re-attached to running job %s (pid %d)", job.name, job.pid)
                continue
            self._settle(job, exit_code=None)

    def _run_monitor(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                with self._lock:
                    self._tick()
            except Exception:
                logger.exception("job monitor failed; retrying")

    def _tick(self) -> None:
        for job in self.list():
            if job.state not in (JobState.RUNNING, JobState.CANCELLING):
                continue
            if job.backend == "kubernetes":
                self._tick_kubernetes(job)
                continue
            child = self._children.get(job.id)
            exit_code = child.poll() if child is not None else None
            alive = exit_code is None if child is not None else bool(job.pid and _pid_alive(job.pid, job.id))
            if alive:
                if job.state == JobState.CANCELLING and job.cancel_requested_at and \
                        time.time() - job.cancel_requested_at > self.config.jobs.cancel_grace_s:
                    logger.warning("job %s ignored SIGTERM for %.0fs: killing it", job.name,
                                   self.config.jobs.cancel_grace_s)
                    self._signal(job, signal.SIGKILL)
                continue
            self._children.pop(job.id, None)
            self._settle(self._load(job.id), exit_code)
        self._schedule()

    def _settle(self, job: JobInfo, exit_code: int | None) -> None:
        """The worker is gone: take its final status, or explain why there is none."""
        status = self._status(job.id)
        reported = status.get("state")
        job.progress = float(status.get("progress", job.progress))
        job.metrics = dict(status.get("metrics", job.metrics))
        job.message = str(status.get("message", job.message))
        if reported in ("SUCCEEDED", "FAILED", "CANCELLED"):
            job.state = JobState(reported)
            job.result = dict(status.get("result", {}))
            job.error = str(status.get("error", ""))
        elif job.state == JobState.CANCELLING:
            job.state, job.message = JobState.CANCELLED, "cancelled (worker stopped)"
        else:
            job.state = JobState.FAILED
            where = f"exit code {exit_code}" if exit_code is not None else "the service restarted meanwhile"
            job.error = f"worker ended without a result ({where}); see {self._dir(job.id) / 'worker.log'}: " \
                        f"{self._log_tail(job.id)}"
        if job.state == JobState.CANCELLED and job.state.value != reported:
            job.error = ""
        self._save(job)
        logger.info("job %s %s", job.name, job.state.value)

    def _log_tail(self, job_id: str, lines: int = 3) -> str:
        try:
            text = (self._dir(job_id) / "worker.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(line for line in text.strip().splitlines()[-lines:])

    def _schedule(self) -> None:
        """Start queued jobs (oldest first) while fewer than max_concurrent_jobs local jobs run."""
        jobs = self.list()
        running = sum(1 for j in jobs if j.backend == "local" and j.state in (JobState.RUNNING, JobState.CANCELLING))
        for job in sorted((j for j in jobs if j.state == JobState.QUEUED), key=lambda j: j.create_time):
            if job.backend == "kubernetes":
                self._start_kubernetes(job)
            elif running < self.config.jobs.max_concurrent_jobs:
                self._start_local(job)
                running += 1

    def _start_local(self, job: JobInfo) -> None:
        folder = self._dir(job.id)
        log = (folder / "worker.log").open("ab")
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "codeinstruct.training.worker", str(folder)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env=env.child_environment({"PYTHONUNBUFFERED": "1"}), cwd=os.getcwd())
        finally:
            log.close()
        self._children[job.id] = child
        job.state, job.pid, job.message = JobState.RUNNING, child.pid, "starting"
        self._save(job)
        logger.info("started job %s as pid %d", job.name, child.pid)

    def _signal(self, job: JobInfo, signum: int) -> None:
        if job.backend == "kubernetes":
            self._kubernetes().delete(job.external_name)
            return
        if not job.pid:
            return
        try:
            os.killpg(job.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    # --- kubernetes backend
    def _kubernetes(self) -> Any:
        if self._k8s is None:
            from codeinstruct.training.kubernetes import TrainJobClient

            self._k8s = TrainJobClient(self.config)
        return self._k8s

    def _start_kubernetes(self, job: JobInfo) -> None:
        try:
            job.external_name = self._kubernetes().submit(job.id, job.spec)
            job.state, job.message = JobState.RUNNING, f"submitted TrainJob {job.external_name}"
        except Exception as exc:  # an unreachable cluster fails the job, not the service
            job.state, job.error = JobState.FAILED, f"TrainJob submission failed: {exc}"
        self._save(job)

    def _tick_kubernetes(self, job: JobInfo) -> None:
        state, message = self._kubernetes().state(job.external_name)
        if state is None and job.state == JobState.CANCELLING:
            state, message = "CANCELLED", "TrainJob deleted"
        if state is not None and JobState(state).terminal:
            job.state, job.message = JobState(state), message
            if job.state == JobState.FAILED:
                job.error = message
            self._save(job)
        elif message and message != job.message:
            job.message = message
            self._save(job)
