"""``mkdocs-wxcloud doctor`` against the emulator: each failure gets its one line of advice, no probe is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import emulator_options, free_port, make_site
from proxy import Exchange, Proxy

from mkdocs_wxcloud.cli import main
from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator

STEPS = ["configuration", "token", "environment", "upload", "links", "read back", "latency", "cleanup"]


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no mkdocs.yml here: flags and variables only


def credentials(monkeypatch: pytest.MonkeyPatch, secret: str = DEFAULT_SECRET) -> None:
    for name, value in (("APPID", DEFAULT_APPID), ("SECRET", secret), ("ENV", DEFAULT_ENV)):
        monkeypatch.setenv(f"WXCLOUD_{name}", value)


def doctor(*args: object) -> Result:
    return CliRunner().invoke(main, ["doctor", *map(str, args)], catch_exceptions=False)


def steps(emu: Emulator, *args: object) -> tuple[int, dict[str, dict]]:
    result = doctor("--api-base", emu.base_url, "--format", "json", *args)
    document = json.loads(result.stdout)
    assert document["exit_status"] == result.exit_code
    assert emu.stored_files() == {}  # the probes are gone, whatever happened
    return result.exit_code, {step["name"]: step for step in document["steps"]}


def failed(found: dict[str, dict]) -> list[str]:
    return [name for name, step in found.items() if not step["ok"]]


def test_doctor_passes_against_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    with Emulator(sign_public_links=True, cors=True, infer_content_type=True) as emu:
        result = doctor("--api-base", emu.base_url)
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        marks = [line.split(":")[0] for line in lines]
        assert marks == [f"✔ {name}" for name in STEPS[:-1]] + ["  → `concurrency", "✔ cleanup", lines[-1]]
        assert lines[0] == (
            f"✔ configuration: auth: token; appid from WXCLOUD_APPID, secret from WXCLOUD_SECRET, env from "
            f"WXCLOUD_ENV; api_base {emu.base_url}"
        )
        assert "the URL without its query serves the file: the storage is public" in result.stdout
        assert (
            "every probe read back byte for byte; probe.png as image/png, probe.svg as image/svg+xml" in result.stdout
        )
        assert "20 concurrent requests per environment" in result.stdout
        assert lines[-1] == "everything a build needs works"
        assert DEFAULT_SECRET not in result.output and not any(t in result.output for t in emu.issued_tokens())
        assert emu.stored_files() == {}
        assert emu.request_count("/tcb/batchdeletefile") == 1

        code, found = steps(emu)
        assert code == 0 and list(found) == STEPS and failed(found) == []
        assert found["upload"]["timings"]["median_ms"] > 0 and len(found["upload"]["timings"]["calls_ms"]) == 4


def test_content_type_and_cors_are_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A storage that serves objects with another type than the one uploaded, and without CORS."""
    credentials(monkeypatch)
    with Emulator() as emu:

        def after(exchange: Exchange) -> Exchange:
            if exchange.path.startswith("/tcb/batchdownloadfile"):  # links through the proxy too
                exchange.answer = exchange.answer.replace(emu.base_url.encode(), proxy.base_url.encode())
            elif exchange.path.startswith("/dl/"):
                exchange.headers["Content-Type"] = "application/octet-stream"
            return exchange

        with Proxy(emu.base_url, after=after) as proxy:
            result = doctor("--api-base", proxy.base_url, "--format", "json")
        assert emu.stored_files() == {}
    found = {step["name"]: step for step in json.loads(result.stdout)["steps"]}
    assert result.exit_code == 0
    assert found["read back"]["status"] == "warn"
    assert "probe.svg is served as application/octet-stream, not image/svg+xml" in found["read back"]["detail"]
    assert "no Access-Control-Allow-Origin header" in found["read back"]["detail"]
    assert found["links"]["detail"] == "links are unsigned: the storage is public, links never expire"


def test_uploads_are_served_with_their_type(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    with Emulator() as emu:  # serves the type the upload stored (the Content-Type form field), no CORS
        code, found = steps(emu)
    assert code == 0 and "probe.svg as image/svg+xml, probe.pdf as application/pdf" in found["read back"]["detail"]


def test_private_storage_fails_with_the_console_path(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    with Emulator(private=True) as emu:
        code, found = steps(emu)
    assert code == 1 and failed(found) == ["links"]
    assert "the URL without its query is refused (HTTP 403): the storage is private" in found["links"]["detail"]
    assert found["links"]["advice"].startswith("make the storage readable by everyone: 云开发控制台 → 存储 → 权限设置")
    assert found["read back"]["ok"] is True  # through the signed links
    assert found["cleanup"]["ok"] is True


def test_wrong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch, secret="not-the-secret-at-all")
    with Emulator() as emu:
        code, found = steps(emu)
    assert code == 1 and list(found) == ["configuration", "token"]
    assert "errcode 40125" in found["token"]["detail"]
    assert found["token"]["advice"].startswith("the AppSecret is wrong")
    assert "not-the-secret-at-all" not in json.dumps(found)


def test_ip_not_whitelisted_names_the_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    with Emulator(ip_whitelist=["203.0.113.9"]) as emu:
        code, found = steps(emu)
    assert code == 1 and failed(found) == ["token"]
    assert found["token"]["advice"] == (
        "add 127.0.0.1 (the IP WeChat saw) to 微信公众平台 → 开发管理 → 开发设置 → IP白名单, then run again"
    )


def test_unknown_env(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    with Emulator() as emu:
        code, found = steps(emu, "--env", "no-such-env")
    assert code == 1 and list(found) == ["configuration", "token", "environment"]
    assert "errcode -501005" in found["environment"]["detail"]
    assert found["environment"]["advice"].startswith("check `env` / WXCLOUD_ENV")
    assert "env from --env" in found["configuration"]["detail"]


@pytest.mark.parametrize("unlisted", ["85107", "502"])
def test_open_api_path_not_whitelisted(monkeypatch: pytest.MonkeyPatch, unlisted: str) -> None:
    monkeypatch.setenv("WXCLOUD_ENV", DEFAULT_ENV)
    listed = ["/tcb/batchdownloadfile", "/tcb/batchdeletefile"]
    with Emulator(open_api=True, openapi_whitelist=listed, openapi_unlisted=unlisted) as emu:
        code, found = steps(emu, "--auth", "openapi")
    assert code == 1 and failed(found) == ["upload"]
    assert found["token"]["status"] == "skip" and "auth: openapi" in found["token"]["detail"]
    assert "微信令牌权限配置" in found["upload"]["advice"] and "/tcb/uploadfile" in found["upload"]["advice"]
    if unlisted == "502":
        assert found["upload"]["advice"].startswith("a bare HTTP 502 from the open API service means a path is not")
    assert found["cleanup"]["detail"].startswith("nothing to delete under docs/.wxcloud-doctor/")


def test_missing_credentials_are_named_at_once() -> None:
    result = doctor("--format", "json")
    assert result.exit_code == 2
    (step,) = json.loads(result.stdout)["steps"]
    assert step["name"] == "configuration" and step["detail"] == "missing: appid, secret, env"
    assert "WXCLOUD_APPID, WXCLOUD_SECRET, WXCLOUD_ENV" in step["advice"]


def test_a_failure_half_way_still_deletes_the_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    with Emulator() as emu:
        emu.fail_next("http502", 20, "/dl/")  # reading the probes back fails, once all four are stored
        code, found = steps(emu)
    assert code == 1 and failed(found) == ["read back"]
    assert found["read back"]["detail"].endswith(": HTTP 502")
    assert found["cleanup"]["detail"] == "4 probes deleted; batchdownloadfile answers STORAGE_FILE_NONEXIST for each"


def test_site_options_are_named_and_a_committed_secret_is_warned_about(tmp_path: Path) -> None:
    with Emulator() as emu:
        make_site(tmp_path, {"index.md": "# Home\n"}, emulator_options(emu))
        result = doctor("-f", tmp_path / "mkdocs.yml", "--format", "json")
        assert emu.stored_files() == {}
    assert result.exit_code == 0
    step = json.loads(result.stdout)["steps"][0]
    assert "appid from option `appid` in mkdocs.yml, secret from option `secret` in mkdocs.yml" in step["detail"]
    assert step["status"] == "warn" and "WXCLOUD_SECRET" in step["advice"]


def test_bundled_emulator(tmp_path: Path) -> None:
    make_site(tmp_path, {"index.md": "# Home\n"}, {"emulator": True, "emulator_address": f"127.0.0.1:{free_port()}"})
    result = doctor()
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("✔ configuration: the bundled emulator at 127.0.0.1:")


def test_ctrl_c_deletes_the_probes_then_exits_130(tmp_path: Path) -> None:
    with Emulator(latency=0.2) as emu:
        env = {
            **os.environ,
            "WXCLOUD_APPID": DEFAULT_APPID,
            "WXCLOUD_SECRET": DEFAULT_SECRET,
            "WXCLOUD_ENV": DEFAULT_ENV,
        }
        command = [str(Path(sys.executable).parent / "mkdocs-wxcloud"), "doctor", "--api-base", emu.base_url]
        proc = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        while not emu.stored_files() and proc.poll() is None:  # until the first probe is stored
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "interrupted: the probes stored so far were deleted" in err
        assert "✔ cleanup: " in out
        assert emu.stored_files() == {}


def test_a_probe_that_could_not_be_deleted_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    with Emulator() as emu:
        emu.fail_next("no_permission", 1, "/tcb/batchdeletefile")  # the first probe is refused (-503002)
        result = doctor("--api-base", emu.base_url, "--format", "json")
        (left,) = emu.file_ids().values()
    cleanup = json.loads(result.stdout)["steps"][-1]
    assert result.exit_code == 1 and cleanup["name"] == "cleanup" and not cleanup["ok"]
    assert cleanup["detail"] == f"1 probe(s) may still be stored (STORAGE_EXCEED_AUTHORITY): {left}"
    assert (
        cleanup["advice"].startswith("delete the folder docs/.wxcloud-doctor/")
        and "云开发控制台 → 存储" in cleanup["advice"]
    )
