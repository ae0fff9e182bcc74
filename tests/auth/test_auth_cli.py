"""`twinning users ...` on the command line, and what the API process writes to its log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from auth_desk import Desk, desk_fixture  # noqa: F401 - the `desk` fixture
from conftest import ADMIN_TOKEN, bearer, sample_partner, wait_for
from twinning.cli import cli
from twinning.streams.broker import free_port
from typer.testing import CliRunner

PRIVATE = "chen.private@example.org"


def twinning(
    *args: str, database_url: str, data_dir: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """The command in this process, as `python -m twinning` runs it (`main` is the command
    line itself): its exit code and what it writes, without an interpreter to start each
    time. The API's log below is a process's, and is read from one."""
    clean: dict[str, str | None] = {key: None for key in os.environ if key.startswith("TWINNING_")}
    result = CliRunner().invoke(
        cli,
        list(args),
        env={
            **clean,
            "TWINNING_DATABASE_URL": database_url,
            "TWINNING_DATA_DIR": str(data_dir),
            **env,
        },
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # what a user would have seen as a traceback
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def test_users_commands_create_issue_list_and_revoke(
    desk: Desk, database_url: str, tmp_path: Path
) -> None:
    def users(*args: str) -> subprocess.CompletedProcess[str]:
        return twinning("users", *args, database_url=database_url, data_dir=tmp_path)

    created = users("create", "chen.wei", "--role", "staff")
    issued = users("token", "chen.wei", "--label", "laptop")
    token = issued.stdout.strip()

    assert created.returncode == 0 and "created user chen.wei (staff)" in created.stdout
    assert issued.returncode == 0 and token.startswith("twn_") and "\n" not in token
    assert "not shown again" in issued.stderr
    me = desk.call("GET", "/me", token=token).json()
    assert (me["name"], me["role"]) == ("chen.wei", "staff")

    listing = users("list").stdout
    assert "chen.wei" in listing and "staff" in listing and "laptop" in listing
    assert token[:12] in listing and token not in listing

    revoked = users("revoke", token[:12])
    assert revoked.returncode == 0, revoked.stderr
    assert desk.call("GET", "/me", token=token).status_code == 401
    assert "revoked" in users("list").stdout


def test_users_commands_refuse_bad_input_with_the_reason(
    desk: Desk, database_url: str, tmp_path: Path
) -> None:
    def users(*args: str) -> subprocess.CompletedProcess[str]:
        return twinning("users", *args, database_url=database_url, data_dir=tmp_path)

    refusals = {
        "exists already": users("create", "admin"),
        "invalid user": users("create", "Not A Name"),
        "no user named 'nobody'": users("token", "nobody"),
        "no token with id or prefix": users("revoke", "twn_nothing"),
    }

    for reason, result in refusals.items():
        assert result.returncode == 1, (reason, result.stdout)
        assert reason in result.stderr, (reason, result.stderr)
    assert [u["name"] for u in desk.call("GET", "/users").json()] == ["admin"]


def test_the_api_logs_neither_tokens_nor_personal_data(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "api.log"
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("TWINNING_")},
        "TWINNING_DATABASE_URL": database_url,
        "TWINNING_DATA_DIR": str(tmp_path),
        "TWINNING_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
        "TWINNING_LOG_LEVEL": "debug",
    }
    with log.open("w") as output:
        api = subprocess.Popen(
            [sys.executable, "-m", "twinning", "api", "--port", str(port), "--init"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            wait_for(lambda: _answers(client), what="the API to start")
            admin = bearer(ADMIN_TOKEN)
            user = client.post("/users", json={"name": "chen.wei", "role": "staff"}, headers=admin)
            issued = client.post(f"/users/{user.json()['id']}/tokens", json={}, headers=admin)
            token = issued.json()["token"]
            client.get("/partners", headers=bearer(token))
            client.get("/partners", headers=bearer("twn_wrong-" + token[10:]))
            # Stored data stands in for personal data: in a valid command, and a refused one.
            for country in ("JP", "??"):
                client.post(
                    "/partners",
                    json={**sample_partner(), "names": {"en": PRIVATE}, "country": country},
                    headers=bearer(token),
                )
    finally:
        api.terminate()
        api.wait(20)
    written = log.read_text()
    assert "GET /partners" in written  # the log is on, at debug level
    for secret in (ADMIN_TOKEN, token, token[12:], PRIVATE):
        assert secret not in written


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code in (200, 503)
    except httpx.TransportError:
        return False
