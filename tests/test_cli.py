"""`explainlab doctor` and argument handling (downloads are in test_hub.py)."""

from __future__ import annotations

from conftest import run_cli


def _rows(stdout: str) -> dict[str, str]:
    return {line[:16].strip(): line[16:].strip() for line in stdout.splitlines()}


def test_doctor_reports_a_working_mirror(mirror):
    result = run_cli("doctor", env={"HF_ENDPOINT": mirror.url, "EXPLAINLAB_PROFILE": "offline"})
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows["endpoint"] == f"{mirror.url} (mirror)"
    assert rows["endpoint answers"].startswith("yes (hub API")
    assert rows["profile"] == "offline"
    assert rows["device"] == "cpu"
    assert rows["IPython patch"].startswith("needed")
    assert rows["transformers"].startswith("5.")
    assert mirror.requests("GET", "/api/models/Helsinki-NLP/opus-mt-zh-en")


def test_doctor_reports_a_dead_mirror_and_bad_settings():
    result = run_cli("doctor", env={"HF_ENDPOINT": "http://127.0.0.1:9",
                                    "EXPLAINLAB_PROFILE": "cloud", "EXPLAINLAB_DEVICE": "cuda"})
    assert result.returncode == 0
    rows = _rows(result.stdout)
    assert rows["endpoint answers"].startswith("no: Cannot connect to http://127.0.0.1:9")
    assert rows["profile"].startswith("problem: Unknown profile 'cloud'")


def test_usage_errors_exit_2():
    assert run_cli().returncode == 2
    assert run_cli("download").returncode == 2
