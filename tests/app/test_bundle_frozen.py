"""Checks on a built bundle (`make bundle`): its version and its startup order. Skipped unless
MICROTOME_BUNDLE names the executable (CI sets it after building; see .ci/run)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.version import APP_NAME, __version__

from .test_startup import check_startup_order, timed_start

BUNDLE = os.environ.get("MICROTOME_BUNDLE")
pytestmark = pytest.mark.skipif(not BUNDLE, reason="set MICROTOME_BUNDLE=dist/microtome/microtome to test a bundle")


def test_bundle_version() -> None:
    proc = subprocess.run([str(Path(BUNDLE).resolve()), "--version"], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{APP_NAME} {__version__}", "the bundle is stale or was built from other sources"


@pytest.mark.slow
def test_bundle_window_first_then_torch_in_the_engine_thread(tmp_path) -> None:
    marks, proc = timed_start([str(Path(BUNDLE).resolve())], tmp_path)
    check_startup_order(marks, proc)
