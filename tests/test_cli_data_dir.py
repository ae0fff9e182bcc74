"""Only `twinning up` (or `--init`) makes a data directory and a database. Every other command
that opens the database refuses, in one line and with exit code 1, a data directory that is
not there, is a file, or holds no twinning database: a mistyped --data-dir must not make an
empty system and a token the running one rejects (issue 20, item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import new_database_url
from twinning.cli import cli
from twinning.config import Settings
from twinning.db.migrate import upgrade
from twinning.streams.broker import free_port
from typer.testing import CliRunner

#: The commands that open the database and end by themselves, as a user types them.
COMMANDS = (
    ("users", "create", "chen.wei", "--role", "staff"),
    ("users", "list"),
    ("users", "token", "admin"),
    ("users", "revoke", "twn_nothing"),
    ("rebuild",),
    ("migrate",),
)
#: Those that serve until stopped (run as processes: if one does not refuse, time runs out).
SERVERS = (("api", "--port", "0"), ("worker",), ("relay",))


class Refused:
    """How a command ended: exit code and what it wrote."""

    def __init__(self, args: Sequence[str], code: int, out: str, err: str) -> None:
        self.args, self.code, self.out, self.err = " ".join(args), code, out, err

    def in_one_line(self, *words: str) -> str:
        assert self.code == 1, (self.args, self.code, self.out, self.err)
        message = self.err.strip()
        assert "Traceback" not in self.err, (self.args, self.err)
        assert message and "\n" not in message, (self.args, self.err)
        for word in words:
            assert word in message, (self.args, message)
        return message


class System:
    """A data directory and the database of one kind: SQLite in the data directory (the
    default), or PostgreSQL named by TWINNING_DATABASE_URL."""

    def __init__(
        self, kind: str, tmp_path: Path, request: pytest.FixtureRequest | None = None
    ) -> None:
        self.tmp_path = tmp_path
        self.data_dir = tmp_path / "system"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TWINNING_")}
        if kind == "postgresql":
            assert request is not None
            self.env["TWINNING_DATABASE_URL"] = new_database_url(
                kind, tmp_path, request, migrated=False
            )

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            database_url=self.env.get("TWINNING_DATABASE_URL"),
            _env_file=None,  # type: ignore[call-arg]
        )

    def run(self, *args: str) -> Refused:
        """The command in this process, as typer runs it (no TWINNING_ setting but the
        database URL, from the system's directory)."""
        previous = Path.cwd()
        os.chdir(self.tmp_path)
        try:
            result = CliRunner().invoke(
                cli,
                list(args),
                env={
                    **{k: None for k in os.environ if k.startswith("TWINNING_")},
                    "TWINNING_DATABASE_URL": self.env.get("TWINNING_DATABASE_URL"),
                },
            )
        finally:
            os.chdir(previous)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # what a user would have seen as a traceback
        return Refused(args, result.exit_code, result.stdout, result.stderr)

    def run_processes(self, commands: Sequence[Sequence[str]]) -> list[Refused]:
        """`python -m twinning ...` for each, side by side; each must end by itself."""
        started = [
            (
                subprocess.Popen(
                    [sys.executable, "-m", "twinning", *args],
                    cwd=self.tmp_path,
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
                args,
            )
            for args in commands
        ]
        ended = []
        for process, args in started:
            try:
                out, err = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                for other, _ in started:
                    other.kill()
                out, err = process.communicate()
                pytest.fail(f"`twinning {' '.join(args)}` did not refuse, it ran: {out}{err}")
            ended.append(Refused(args, process.returncode, out, err))
        return ended


@pytest.fixture(params=["sqlite", "postgresql"])
def unmade(request: pytest.FixtureRequest, tmp_path: Path) -> System:
    """An empty data directory, and for PostgreSQL a database never migrated."""
    system = System(request.param, tmp_path, request)
    system.data_dir.mkdir()
    return system


@pytest.fixture
def system(unmade: System) -> System:
    """A system as `twinning up` makes one: a data directory, a migrated database."""
    upgrade(unmade.settings().sync_database_url)
    return unmade


def test_a_mistyped_data_dir_is_refused_and_nothing_is_made(system: System) -> None:
    wrong = system.tmp_path / "WRONG"
    option = ("--data-dir", str(wrong))

    # As the issue found it: a user made in a new database, with a token nobody's API knows.
    [as_typed] = system.run_processes([("users", "create", "chen.wei", *option)])
    ended = [
        as_typed,
        *system.run_processes([(*args, *option) for args in (*SERVERS, ("broker",))]),
        *(system.run(*args, *option) for args in COMMANDS),
    ]

    for result in ended:
        result.in_one_line(f"there is no data directory {wrong}", "twinning up")
    assert not wrong.exists()
    assert sorted(p.name for p in system.tmp_path.iterdir()) == ["system"]


def test_a_file_given_as_the_data_dir_is_refused_in_one_line(system: System) -> None:
    a_file = system.tmp_path / "notes.txt"
    a_file.write_text("not a data directory\n")
    option = ("--data-dir", str(a_file))

    ended = [
        *system.run_processes([("up", "--port", "0", *option)]),
        *(system.run(*args, *option) for args in (*COMMANDS, ("migrate", "--init"))),
    ]

    for result in ended:
        result.in_one_line(f"{a_file} is a file, not a data directory")
    assert a_file.read_text() == "not a data directory\n"


def test_a_data_dir_without_a_twinning_database_is_refused_until_init(unmade: System) -> None:
    option = ("--data-dir", str(unmade.data_dir))
    ended = [
        *unmade.run_processes([(*args, *option) for args in SERVERS]),
        *(unmade.run(*args, *option) for args in COMMANDS),
    ]
    for result in ended:
        message = result.in_one_line("twinning up")
        assert "holds no twinning database" in message or "no database at" in message, message
    assert list(unmade.data_dir.iterdir()) == []

    made = unmade.run("users", "create", "chen.wei", "--init", *option)
    assert made.code == 0, made.err
    listed = unmade.run("users", "list", *option)
    assert listed.code == 0 and "chen.wei" in listed.out, listed.err


def test_init_makes_the_data_dir_and_the_database_the_other_commands_then_use(
    system: System,
) -> None:
    option = ("--data-dir", str(system.tmp_path / "new" / "data"))
    made = system.run("migrate", "--init", *option)
    assert made.code == 0, made.err
    assert (system.tmp_path / "new" / "data").is_dir()
    assert system.run("users", "create", "chen.wei", *option).code == 0
    issued = system.run("users", "token", "chen.wei", *option)
    assert issued.code == 0 and issued.out.startswith("twn_"), issued.err


def test_commands_on_the_right_data_dir_work_as_before(system: System) -> None:
    option = ("--data-dir", str(system.data_dir))
    created = system.run("users", "create", "chen.wei", "--role", "staff", *option)
    assert created.code == 0, created.err
    listed = system.run("users", "list", *option)
    assert "chen.wei" in listed.out, listed.err
    assert system.run("migrate", *option).code == 0


def test_a_sqlite_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path) -> None:
    system = System("sqlite", tmp_path)
    system.data_dir.mkdir()
    (system.data_dir / "twinning.db").write_bytes(b"these are my notes, not a database" * 200)

    result = system.run("users", "list", "--data-dir", str(system.data_dir))

    result.in_one_line("is not a twinning database", "twinning up")


def test_a_database_out_of_reach_is_refused_in_one_line_even_with_init(tmp_path: Path) -> None:
    system = System("sqlite", tmp_path)
    nobody_listens = f"postgresql://twinning:s3cret@127.0.0.1:{free_port()}/twinning"
    system.env["TWINNING_DATABASE_URL"] = nobody_listens
    option = ("--data-dir", str(system.data_dir))

    ended = [
        system.run("migrate", "--init", *option),
        system.run("users", "create", "chen.wei", "--init", *option),
    ]

    for result in ended:
        message = result.in_one_line("cannot reach the database postgresql", "127.0.0.1")
        assert "s3cret" not in message, message
