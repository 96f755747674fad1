"""A plan's runs on a Ray cluster (`--ray ADDRESS`), or on a Ray instance started here for the plan and ended after
it (`--ray local`, whatever clusters this machine knows of).

Each Ray actor builds the program's trials once (its data, its autoencoder: the files must be at the same paths on
every node, a shared folder, as they are here) and trains the runs it is given, on one GPU of its own when the
cluster has GPUs, else on its share of the CPUs. Only rows come back: the program that started the plan keeps the
run log and draws the plots. What happens to a run whose actor fails or is lost is common/study/dispatch.py's one
policy. Ray is an optional dependency (requirements-ray.txt).

Connecting: an address that does not answer is refused in one line within seconds, before Ray would retry it for a
minute. A head started with `ray start --head` on a machine that holds a Ray token (Ray writes one at the first
`ray.init`, in ~/.ray/auth_token) uses token authentication; Ray's client sends the token only in token mode, and
a head without authentication loses the actors of a client in that mode. So the head is asked first and the client
set to match it (a RAY_AUTH_MODE that contradicts the head is refused in one line).
"""

import contextlib
import io
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError, first_line
from common.study.dispatch import Outcome, dispatch
from common.study.runner import QuietReporter

ROOT = Path(__file__).resolve().parents[2]  # the project: what a local Ray's workers import the programs from
LOCAL = "local"
CONNECT_SECONDS = 5.0  # an address that has not answered by then is refused
TOKEN_FILE = Path.home() / ".ray" / "auth_token"  # where Ray keeps this machine's token
SENT_WITHOUT = ["runs/", ".venv/", ".git/", "/data/", "/docs/", "/benchmarks/", "*.h5", "*.keras", "*.png"]  # the
# code a cluster's actors import is sent with the job; data and models are read at their paths on every machine
CLUSTER_ID = "/ray.rpc.NodeInfoGcsService/GetClusterId"  # a head's gRPC call that tells whether it wants a token


@dataclass(frozen=True)
class RayWorkers:
    """How to train a plan's runs on Ray: at `address` ("local": a Ray instance started for the plan and ended
    after it), with `count` actors (0: one per GPU of the cluster, or one per 2 CPUs)."""
    address: str
    count: int
    factory: object  # makes an actor's trials from factory_args (a module-level function and plain values)
    factory_args: tuple

    def results(self, plan, todo: list, context: dict, reporter, folder=None):
        """Yield (planned run, its log row) as the actors finish them; a failed run's traceback goes to a file in
        `folder`."""
        ray = connect(self.address)
        try:
            yield from dispatch(RayPool(ray, self), plan, todo, context, reporter, folder)
        finally:
            ray.shutdown()


def connect(address: str):
    """Start a Ray instance of our own (`local`) or join the cluster at `address`; the `ray` module, connected.
    UserError in one line when the cluster cannot be reached or asks for a token this machine lacks."""
    import ray  # Ray: an optional extra (requirements-ray.txt)

    local = address == LOCAL
    if not local:
        head = _bootstrap_address(address)
        reachable(address, head)
        wanted = "token" if _asks_for_token(address, head) else "disabled"
        told = os.environ.get("RAY_AUTH_MODE")
        if told is not None and told.lower() != wanted:
            raise UserError(f"--ray {address}: RAY_AUTH_MODE is {told} but the cluster's authentication is "
                            f"{'by token' if wanted == 'token' else 'off'}: unset RAY_AUTH_MODE")
        _auth_mode(wanted)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):  # Ray's notes
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     configure_logging=False, ignore_reinit_error=True,
                     runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}} if local else
                     {"working_dir": str(ROOT), "excludes": SENT_WITHOUT})
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as e:
        raise UserError(f"--ray {address}: cannot join the cluster ({first_line(e)})") from None
    return ray


def _bootstrap_address(address: str) -> str:
    """The head's host:port that `address` ("auto" too) stands for; UserError when there is none."""
    from ray._private.services import canonicalize_bootstrap_address  # pinned Ray (requirements-ray.txt)

    try:
        found = canonicalize_bootstrap_address(address)
    except (ConnectionError, ValueError) as e:
        raise UserError(f"--ray {address}: {first_line(e)}") from None
    if not found:
        raise UserError(f"--ray {address}: no Ray cluster is running here (start one with ray start --head, or "
                        f"use --ray local)")
    return found


def reachable(given: str, address: str) -> None:
    """UserError naming `given` (--ray's value) when nothing answers at `address` (host:port) within
    CONNECT_SECONDS."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--ray {given}: expected HOST:PORT of a Ray head (or auto, or local)")
    where = "" if address == given else f" at {address}"
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as e:
        raise UserError(f"--ray {given}: no Ray head answers{where} ({e.strerror or e})") from None


def _asks_for_token(given: str, address: str) -> bool:
    """Whether the head at `address` uses token authentication: asked with one call it answers without a token
    (its cluster id); UserError when it needs one and this machine has none (the token lies in ~/.ray/auth_token, or
    RAY_AUTH_TOKEN, or the file RAY_AUTH_TOKEN_PATH names), or does not answer as a Ray head."""
    import grpc  # Ray's own dependency: with Ray only

    with grpc.insecure_channel(address) as channel:
        ask = channel.unary_unary(CLUSTER_ID, request_serializer=bytes, response_deserializer=bytes)
        try:
            ask(b"", timeout=CONNECT_SECONDS)
            return False
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAUTHENTICATED:
                raise UserError(f"--ray {given}: no Ray head answers at {address} ({e.code().name.lower()})") \
                    from None
    if not (TOKEN_FILE.is_file() or os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")):
        raise UserError(f"--ray {given}: the cluster uses token authentication and this machine holds no token: "
                        f"copy the head's {TOKEN_FILE} here, or set RAY_AUTH_TOKEN")
    return True


def _auth_mode(mode: str) -> None:
    """Connect with Ray's token authentication on ("token") or off ("disabled"), as the head expects; Ray reads
    the mode when it loads, so its configuration is read again (as Ray does itself when it turns the mode on)."""
    from ray._raylet import Config  # Ray: an optional extra

    os.environ["RAY_AUTH_MODE"] = mode
    Config.initialize("")


class RayPool:
    """The actors of `RayWorkers` (common/study/dispatch.py's WorkerPool), one per slot."""

    def __init__(self, ray, workers: RayWorkers):
        self.ray = ray
        self.workers = workers
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = max(1, int(resources.get("CPU", 1)))
        self.count = workers.count or gpus or max(1, cpus // 2)
        self.options = {"num_gpus": 1, "num_cpus": 1} if gpus else {"num_cpus": max(1, cpus // self.count)}
        self.actors = {}  # slot -> actor; object ref -> slot
        self.running = {}

    def start(self, slot: int) -> None:
        if slot in self.actors:
            self.ray.kill(self.actors[slot])
        actor = self.ray.remote(**self.options)(TrialActor)
        self.actors[slot] = actor.remote(self.workers.factory, self.workers.factory_args, self.options["num_cpus"])

    def submit(self, slot: int, plan, planned, context: dict) -> None:
        self.running[self.actors[slot].train.remote(plan, planned, context)] = slot

    def wait(self, timeout: float, reporter) -> list[tuple[int, Outcome]]:
        if not self.running:
            return []
        ready, _ = self.ray.wait(list(self.running), num_returns=len(self.running), timeout=timeout)
        return [(self.running.pop(ref), self._outcome(ref)) for ref in ready]

    def stop(self) -> None:
        for actor in self.actors.values():
            self.ray.kill(actor)
        self.actors = {}
        self.running = {}

    def _outcome(self, ref) -> Outcome:
        try:
            return Outcome(row=self.ray.get(ref))
        except self.ray.exceptions.RayActorError:
            return Outcome(why="its actor stopped", detail="killed or out of memory", lost=True)
        except self.ray.exceptions.RayTaskError as e:
            cause = e.cause if e.cause is not None else e
            return Outcome(why="failed", detail=f"{type(cause).__name__}: {cause}", trace=str(e))


class TrialActor:
    """A Ray actor: the program's trials, built once, training the runs it is given."""

    def __init__(self, factory, factory_args: tuple, threads: int):
        for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
            os.environ[name] = str(threads)  # before TensorFlow starts in this process
        self.trials = factory(*factory_args)

    def train(self, plan, planned, context: dict) -> dict:
        return self.trials.train(plan, planned, context, QuietReporter())
