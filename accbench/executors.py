"""Where sweep tasks run: in this process, in a local process pool, or on a Ray cluster.

Every executor takes the tasks, the :class:`~accbench.tasks.WorkerContext` every worker needs, and a
callback that the driver uses to record each finished task (the driver is the only writer of results).

- :class:`SerialExecutor`: one task after another in this process (debugging, tiny runs).
- :class:`LocalExecutor`: a ``concurrent.futures`` process pool (spawned workers; the model is loaded once
  per worker). A worker process that dies (a segfault, ``os._exit``, the OOM killer) breaks the pool: the
  pool is rebuilt, the tasks that were running are re-run one at a time in isolation to find the one that
  kills its process (recorded as a failure), and the others are resubmitted. Finished tasks never rerun.
- :class:`RayExecutor`: the same tasks on a Ray cluster (``pip install accbench[ray]``). One actor per worker
  slot and model, created with that model's ``num_cpus``/``num_gpus``, loads the model once; a crashed actor
  is replaced and its task retried once, then recorded as a failure.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from accbench.errors import ConfigError
from accbench.tasks import (
    INFLIGHT,
    AnalysisTask,
    Task,
    TaskOutcome,
    WorkerContext,
    close_worker,
    init_worker,
    run_in_worker,
)

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "SerialExecutor", "make_executor"]

log = logging.getLogger(__name__)

OnResult = Callable[[TaskOutcome], None]


class Executor:
    """Runs tasks and reports each outcome through ``on_result`` (in the driver's thread)."""

    name = "executor"

    def run(self, tasks: Sequence[Task | AnalysisTask], context: WorkerContext, on_result: OnResult) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers kept between :meth:`run` calls."""


def _crash_outcome(task: Task | AnalysisTask, detail: str) -> TaskOutcome:
    return TaskOutcome(
        task.task_id,
        failure={
            "model": getattr(task, "model_label", ""),
            "model_version": getattr(task, "model_version", ""),
            "config_id": getattr(task, "config_id", ""),
            "song": task.song_id,
            "seed": getattr(task, "seed", None),
            "error": f"WorkerCrash: {detail}",
            "call": None,
            "traceback": "",
        },
    )


class SerialExecutor(Executor):
    """Runs every task in this process, in order."""

    name = "serial"

    def run(self, tasks: Sequence[Task], context: WorkerContext, on_result: OnResult) -> None:
        init_worker(context)
        try:
            for task in tasks:
                on_result(run_in_worker(task))
        finally:
            close_worker()


class LocalExecutor(Executor):
    """A process pool of ``workers`` spawned processes (default: the number of cores)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._kept: tuple[concurrent.futures.ProcessPoolExecutor, WorkerContext] | None = None

    def _pool(self, context: WorkerContext, workers: int) -> concurrent.futures.ProcessPoolExecutor:
        if workers == self.workers and self._kept is not None and self._kept[1] is context:
            return self._kept[0]  # workers keep their loaded models between the analysis and grid phases
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(context,),
        )
        if workers == self.workers:
            self.close()
            self._kept = (pool, context)
        return pool

    def close(self) -> None:
        if self._kept is not None:
            self._kept[0].shutdown(wait=True, cancel_futures=True)
            self._kept = None

    def _inflight(self, context: WorkerContext) -> set[str]:
        folder = Path(context.out_dir) / INFLIGHT
        found = set()
        for marker in folder.glob("*.*") if folder.is_dir() else []:
            found.add(marker.name.split(".", 1)[0])
            marker.unlink(missing_ok=True)
        return found

    def run(self, tasks: Sequence[Task], context: WorkerContext, on_result: OnResult) -> None:
        remaining = {task.task_id: task for task in tasks}
        self._inflight(context)  # markers left by an earlier, killed run are stale
        while remaining:
            broken = self._run_pool(list(remaining.values()), context, self.workers, on_result, remaining)
            if not broken:
                break
            suspects = [remaining[task_id] for task_id in sorted(self._inflight(context)) if task_id in remaining]
            log.warning("a worker process died; re-running %d task(s) in isolation", len(suspects))
            for task in suspects:
                if self._run_pool([task], context, 1, on_result, remaining):
                    self._inflight(context)
                    remaining.pop(task.task_id, None)
                    on_result(_crash_outcome(task, "the worker process died while running this task"))

    def _run_pool(
        self, tasks: list[Task], context: WorkerContext, workers: int, on_result: OnResult, remaining: dict[str, Task]
    ) -> bool:
        """Run ``tasks`` in a fresh pool; returns ``True`` if the pool broke."""
        pool = self._pool(context, workers)
        broken = False
        try:
            futures = {pool.submit(run_in_worker, task): task for task in tasks}
            for future in concurrent.futures.as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken = True
                    break
                remaining.pop(outcome.task_id, None)
                on_result(outcome)
        finally:
            kept = self._kept is not None and self._kept[0] is pool
            if broken and kept:
                self._kept = None
            if broken or not kept:
                pool.shutdown(wait=not broken, cancel_futures=True)
        return broken


class RayExecutor(Executor):
    """Runs tasks on Ray actors: one per worker slot and model, each loading its model once.

    Parameters
    ----------
    address : str or None
        ``ray.init(address=...)``: ``"auto"`` joins a running cluster, ``None`` starts a local one.
    workers : int or None
        Actors per model (default: the cluster's CPUs divided by the model's ``num_cpus``).
    init_options : dict
        More keyword arguments for ``ray.init``.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, **init_options: Any) -> None:
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError("the ray executor needs Ray: pip install 'accbench[ray]'") from None
        self.address = address
        self.workers = workers
        self.init_options = init_options

    def run(self, tasks: Sequence[Task], context: WorkerContext, on_result: OnResult) -> None:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            ray.init(
                address=self.address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
                **self.init_options,
            )
        try:
            self._run(ray, tasks, context, on_result)
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, ray: Any, tasks: Sequence[Task | AnalysisTask], context: WorkerContext, on_result: OnResult) -> None:
        def group(task: Task | AnalysisTask) -> int:
            return getattr(task, "model_index", -1)  # -1: song analyses, which load no model

        def resources(index: int) -> tuple[float, float]:
            return (1.0, 0.0) if index < 0 else (context.models[index].num_cpus, context.models[index].num_gpus)

        actor_class = ray.remote(_RayWorker)
        context_ref = ray.put(context)
        created: list[Any] = []

        def new_actor(index: int) -> Any:
            num_cpus, num_gpus = resources(index)
            actor = actor_class.options(num_cpus=num_cpus, num_gpus=num_gpus).remote(context_ref)
            created.append(actor)
            return actor

        queues: dict[int, list[Task | AnalysisTask]] = {}
        for task in reversed(tasks):
            queues.setdefault(group(task), []).append(task)
        pending: dict[Any, tuple[Any, Task | AnalysisTask, int]] = {}

        def submit(actor: Any, task: Task | AnalysisTask, attempt: int) -> None:
            pending[actor.run.remote(task)] = (actor, task, attempt)

        cpus = float(ray.cluster_resources().get("CPU", 1))
        for index, queue in queues.items():
            count = self.workers or max(1, int(cpus // max(resources(index)[0], 1e-9)))
            for _ in range(min(count, len(queue))):
                submit(new_actor(index), queue.pop(), 0)
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                actor, task, attempt = pending.pop(done[0])
                try:
                    outcome = ray.get(done[0])
                except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as error:
                    # The actor's process died: replace it (its model loads again) and retry the task once.
                    ray.kill(actor, no_restart=True)
                    actor = new_actor(group(task))
                    if attempt == 0:
                        log.warning("ray actor died on task %s; retrying once on a new actor", task.task_id)
                        submit(actor, task, 1)
                        continue
                    outcome = _crash_outcome(task, f"the ray actor died twice running it ({type(error).__name__})")
                on_result(outcome)
                if queues[group(task)]:
                    submit(actor, queues[group(task)].pop(), 0)
        finally:
            for actor in created:
                ray.kill(actor, no_restart=True)


class _RayWorker:
    """A Ray actor holding one worker's model and song caches."""

    def __init__(self, context: WorkerContext) -> None:
        init_worker(context)

    def run(self, task: Task) -> TaskOutcome:
        return run_in_worker(task)


def make_executor(name: str, workers: int | None = None, address: str | None = None) -> Executor:
    """An executor by name: ``serial``, ``local`` or ``ray``."""
    if name == "serial":
        return SerialExecutor()
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(address=address, workers=workers)
    raise ConfigError(f"unknown executor {name!r}: expected serial, local or ray")
