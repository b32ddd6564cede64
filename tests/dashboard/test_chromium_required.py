"""Without Chromium the browser tests skip on a developer's machine and fail in CI, never pass silently."""

import pytest
from chromium_dom import chromium


def _without_chromium(monkeypatch):
    monkeypatch.setattr("chromium_dom.shutil.which", lambda name: None)
    monkeypatch.setattr("chromium_dom.os.access", lambda path, mode: False)


def test_missing_chromium_fails_under_ci(monkeypatch):
    _without_chromium(monkeypatch)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium is not installed"):
        chromium()


def test_missing_chromium_skips_locally_with_the_reason(monkeypatch):
    _without_chromium(monkeypatch)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        chromium()
