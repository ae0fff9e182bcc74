"""The production files in infra/ agree with the code.

No Docker engine runs on these machines, so compose.yaml, topics.yaml and the Dockerfile are
checked statically: against `Settings`, the CLI, the topic names and `topic_specs()`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from twinning.cli import cli
from twinning.config import Settings
from twinning.streams.broker import topic_specs
from twinning.streams.events import ALL_TOPICS

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
COMPOSE = INFRA / "compose.yaml"
TOPICS = INFRA / "topics.yaml"
DOCKERFILE = INFRA / "Dockerfile"

ENV_PREFIX = Settings.model_config["env_prefix"]
INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
)


# --- helpers --------------------------------------------------------------------------------


def interpolate(value: Any) -> Any:
    """Compose variable interpolation with nothing set on the host: `${X:-default}` -> default."""
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        op, arg = match.group("op"), match.group("arg")
        if op in (":-", "-"):
            return arg
        pytest.fail(f"compose variable ${{{match.group('name')}}} has no local default: {value!r}")

    return INTERPOLATION.sub(replace, value).replace("$$", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(interpolate(value)) for key, value in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(part) for part in cmd]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def kafka(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in services.items()
        if str(svc.get("image", "")).startswith("apache/kafka")
    }


@pytest.fixture(scope="module")
def twinning_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in services.items() if command(svc)[:1] == ["twinning"]}


def by_role(twinning_services: dict[str, dict[str, Any]], role: str) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in twinning_services.items() if command(svc)[1:2] == [role]}


def single_value(twinning_services: dict[str, dict[str, Any]], variable: str) -> str:
    values = {environment(svc).get(variable) for svc in twinning_services.values()}
    assert len(values) == 1 and None not in values, f"{variable} differs between services: {values}"
    return values.pop()


@pytest.fixture(scope="module")
def topics_file() -> list[dict[str, Any]]:
    return yaml.safe_load(TOPICS.read_text())["topics"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


# --- compose: the Kafka cluster -------------------------------------------------------------


def test_compose_file_parses_into_services(compose: dict[str, Any]) -> None:
    assert isinstance(compose, dict)
    assert isinstance(compose.get("services"), dict) and compose["services"]


def test_compose_runs_three_combined_kraft_brokers_that_all_vote(
    kafka: dict[str, dict[str, Any]],
) -> None:
    assert sorted(kafka) == ["kafka-1", "kafka-2", "kafka-3"]
    node_ids: dict[str, str] = {}
    voter_sets = set()
    cluster_ids = set()
    for name, svc in kafka.items():
        env = environment(svc)
        assert "KAFKA_ZOOKEEPER_CONNECT" not in env, f"{name} must run in KRaft mode"
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}, name
        node_ids[name] = env["KAFKA_NODE_ID"]
        voter_sets.add(env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
        cluster_ids.add(env["CLUSTER_ID"])
        controller_port = re.search(r"CONTROLLER://[^:,]*:(\d+)", env["KAFKA_LISTENERS"])
        assert controller_port, f"{name} has no CONTROLLER listener"
        assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert len(set(node_ids.values())) == 3, f"node ids must be unique: {node_ids}"
    assert len(voter_sets) == 1, "every node must see the same controller quorum"
    assert len(cluster_ids) == 1 and "" not in cluster_ids, "one CLUSTER_ID for the whole cluster"
    voters = set(voter_sets.pop().split(","))
    port = controller_port.group(1)
    assert voters == {f"{node_id}@{name}:{port}" for name, node_id in node_ids.items()}


def test_each_broker_advertises_its_own_service_name(kafka: dict[str, dict[str, Any]]) -> None:
    for name, svc in kafka.items():
        env = environment(svc)
        advertised = env["KAFKA_ADVERTISED_LISTENERS"].split(",")
        assert f"PLAINTEXT://{name}:9092" in advertised, name
        assert (
            env["KAFKA_INTER_BROKER_LISTENER_NAME"] in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        )


def test_kafka_cluster_keeps_three_replicas_and_creates_no_topic_by_accident(
    kafka: dict[str, dict[str, Any]],
) -> None:
    for name, svc in kafka.items():
        env = environment(svc)
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2", name
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", name
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3", name
        mounts = {str(volume).split(":")[1] for volume in svc.get("volumes", [])}
        assert env["KAFKA_LOG_DIRS"] in mounts, f"{name} must keep its log dir on a volume"


def test_twinning_broker_list_names_every_kafka_broker(
    kafka: dict[str, dict[str, Any]], twinning_services: dict[str, dict[str, Any]]
) -> None:
    bootstrap = single_value(twinning_services, f"{ENV_PREFIX}BROKER")
    advertised = {
        environment(svc)["KAFKA_ADVERTISED_LISTENERS"].removeprefix("PLAINTEXT://")
        for svc in kafka.values()
    }
    assert set(bootstrap.split(",")) == advertised


# --- compose: PostgreSQL and the twinning services ------------------------------------------


def test_postgres_is_16_with_a_healthcheck_and_a_volume(
    services: dict[str, dict[str, Any]],
) -> None:
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])


def test_database_url_reaches_the_compose_postgres(
    services: dict[str, dict[str, Any]], twinning_services: dict[str, dict[str, Any]]
) -> None:
    pg_env = environment(services["postgres"])
    url = Settings(
        _env_file=None, database_url=single_value(twinning_services, f"{ENV_PREFIX}DATABASE_URL")
    )
    sync_url = url.sync_database_url
    assert sync_url.get_backend_name() == "postgresql"
    assert (sync_url.host, sync_url.port) == ("postgres", 5432)
    assert sync_url.username == pg_env["POSTGRES_USER"]
    assert sync_url.password == pg_env["POSTGRES_PASSWORD"]
    assert sync_url.database == pg_env["POSTGRES_DB"]
    # The password is a variable, not a literal, in both places.
    raw = COMPOSE.read_text()
    assert "${POSTGRES_PASSWORD:-" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert raw.count("${POSTGRES_PASSWORD") >= 2


def test_compose_runs_api_relay_and_exactly_two_workers(
    twinning_services: dict[str, dict[str, Any]],
) -> None:
    assert sorted(by_role(twinning_services, "worker")) == ["worker-1", "worker-2"]
    assert list(by_role(twinning_services, "api")) == ["api"]
    assert list(by_role(twinning_services, "relay")) == ["relay"], (
        "exactly one relay publishes the outbox"
    )
    for one_shot in ("topics", "migrate"):
        assert list(by_role(twinning_services, one_shot)) == [one_shot]
        assert twinning_services[one_shot]["restart"] == "no"


def test_workers_share_one_consumer_group(twinning_services: dict[str, dict[str, Any]]) -> None:
    default = Settings.model_fields["consumer_group"].default
    groups = {
        environment(svc).get(f"{ENV_PREFIX}CONSUMER_GROUP", default)
        for svc in by_role(twinning_services, "worker").values()
    }
    assert len(groups) == 1


def test_compose_commands_are_real_cli_commands(
    twinning_services: dict[str, dict[str, Any]],
) -> None:
    group = typer.main.get_command(cli)
    for name, svc in twinning_services.items():
        _, subcommand, *args = command(svc)
        assert subcommand in group.commands, f"{name}: `twinning {subcommand}` does not exist"
        options = {opt for param in group.commands[subcommand].params for opt in param.opts}
        used = {arg for arg in args if arg.startswith("--")}
        assert used <= options, f"{name}: unknown options {used - options}"


def test_api_listens_on_all_interfaces_at_the_published_port(
    twinning_services: dict[str, dict[str, Any]],
) -> None:
    api = twinning_services["api"]
    args = command(api)
    port = args[args.index("--port") + 1]
    assert args[args.index("--host") + 1] == "0.0.0.0"
    assert any(str(mapping).endswith(f":{port}") for mapping in api["ports"])
    assert f"127.0.0.1:{port}/health" in " ".join(api["healthcheck"]["test"])


def test_every_twinning_variable_in_compose_is_a_setting(
    services: dict[str, dict[str, Any]],
) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    used = {
        key for svc in services.values() for key in environment(svc) if key.startswith(ENV_PREFIX)
    }
    # ...and those read from the host by interpolation, e.g. ${TWINNING_PUBLIC_URL:-...}
    used |= {
        m.group("name")
        for m in INTERPOLATION.finditer(COMPOSE.read_text())
        if m.group("name").startswith(ENV_PREFIX)
    }
    assert used, "compose sets no TWINNING_* variable at all"
    unknown = {name for name in used if name.removeprefix(ENV_PREFIX) not in fields}
    assert not unknown, f"not fields of twinning.config.Settings: {sorted(unknown)}"


def test_compose_environment_is_valid_settings(
    kafka: dict[str, dict[str, Any]], twinning_services: dict[str, dict[str, Any]]
) -> None:
    for name, svc in twinning_services.items():
        values = {
            key.removeprefix(ENV_PREFIX).lower(): value
            for key, value in environment(svc).items()
            if key.startswith(ENV_PREFIX)
        }
        settings = Settings(_env_file=None, **values)  # raises on a value the code rejects
        assert settings.broker != "embedded", name
        assert settings.topic_replication == 3, name
        assert settings.topic_replication <= len(kafka), name
        assert str(settings.data_dir) == "/var/lib/twinning", name


def test_services_start_after_their_dependencies(
    kafka: dict[str, dict[str, Any]], twinning_services: dict[str, dict[str, Any]]
) -> None:
    topics_deps = twinning_services["topics"]["depends_on"]
    assert {name: dep["condition"] for name, dep in topics_deps.items()} == dict.fromkeys(
        kafka, "service_healthy"
    )
    assert twinning_services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, svc in twinning_services.items():
        if name in ("topics", "migrate"):
            continue
        deps = svc["depends_on"]
        for one_shot in ("migrate", "topics"):
            assert deps[one_shot]["condition"] == "service_completed_successfully", name


def test_twinning_services_are_built_from_the_infra_dockerfile(
    twinning_services: dict[str, dict[str, Any]],
) -> None:
    for name, svc in twinning_services.items():
        context = (INFRA / svc["build"]["context"]).resolve()
        assert (context / "pyproject.toml").is_file(), (
            f"{name}: build context is not the project root"
        )
        assert (context / svc["build"]["dockerfile"]).resolve() == DOCKERFILE, name


# --- topics.yaml ----------------------------------------------------------------------------


def test_topics_yaml_defines_exactly_the_code_topics(topics_file: list[dict[str, Any]]) -> None:
    names = [topic["name"] for topic in topics_file]
    assert len(names) == len(set(names)), "a topic is defined twice"
    assert set(names) == set(ALL_TOPICS)


def test_compose_topics_match_the_code(
    topics_file: list[dict[str, Any]], twinning_services: dict[str, dict[str, Any]]
) -> None:
    partitions = int(single_value(twinning_services, f"{ENV_PREFIX}TOPIC_PARTITIONS"))
    replication = int(single_value(twinning_services, f"{ENV_PREFIX}TOPIC_REPLICATION"))
    expected = {
        spec.name: (spec.partitions, spec.replication, spec.retention_ms)
        for spec in topic_specs(partitions, replication)
    }
    declared = {
        topic["name"]: (
            topic["partitions"],
            topic["replication_factor"],
            int(topic["config"]["retention.ms"]),
        )
        for topic in topics_file
    }
    assert declared == expected


def test_topic_configs_the_code_leaves_to_the_brokers_match_the_brokers(
    topics_file: list[dict[str, Any]], kafka: dict[str, dict[str, Any]]
) -> None:
    # `twinning topics` sets retention.ms only; the rest comes from the broker defaults.
    for name, svc in kafka.items():
        env = environment(svc)
        for topic in topics_file:
            config = topic["config"]
            assert str(config["min.insync.replicas"]) == env["KAFKA_MIN_INSYNC_REPLICAS"], (
                name,
                topic["name"],
            )
            assert config["cleanup.policy"] == env.get("KAFKA_LOG_CLEANUP_POLICY", "delete"), (
                name,
                topic["name"],
            )
    for topic in topics_file:
        # One broker may be down and acks=all still succeeds.
        min_isr = int(topic["config"]["min.insync.replicas"])
        assert min_isr < topic["replication_factor"], topic["name"]


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_installs_the_project_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())

    base = next(arg for op, arg in instructions if op == "FROM")
    assert base.startswith("python:3.11-slim")
    minimum = re.search(r">=\s*3\.(\d+)", pyproject["project"]["requires-python"])
    assert minimum and int(minimum.group(1)) <= 11

    copied = " ".join(arg for op, arg in instructions if op == "COPY")
    assert "pyproject.toml" in copied
    folders = {src.split("/")[0] for src in pyproject["tool"]["setuptools"]["package-dir"].values()}
    missing = {folder for folder in folders if not re.search(rf"(^|\s){folder}(/|\s)", copied)}
    assert not missing, f"the Dockerfile does not copy the package folders {sorted(missing)}"

    runs = [arg for op, arg in instructions if op == "RUN"]
    assert any(re.search(r"pip install (--\S+ )*\.(\s|$)", run) for run in runs), (
        "no `pip install .`"
    )

    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert any("useradd" in run and users[-1] in run.split() for run in runs), (
        "the USER is never created"
    )

    assert ("ENV", "TWINNING_DATA_DIR=/var/lib/twinning") in instructions
    assert any("/var/lib/twinning" in run and "chown" in run for run in runs), (
        "data dir not writable"
    )
