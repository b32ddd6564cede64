"""The dbt project as Dagster sees it: one DbtProject at the repo root (Dagster's dbt examples layout).

DBT_TARGET_PATH (default `target`) lets tests parse into a temporary folder instead of the repo's target/.
"""

import fcntl
import os
import subprocess

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject

from settings import REPO_ROOT
from settings.dbt import DBT_INPUTS, dbt_command, dbt_executable


class VenvDbtPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (parse at every load under `dagster dev`), running the venv's dbt.

    dagster-dbt's own preparer runs the `dbt` it finds on PATH, which is not the venv's when the venv is not
    activated (a fresh clone's `make dev`): the code location would fail to load.
    """

    def _prepare_manifest(self, project: DbtProject) -> None:
        DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            self._prepare_project_cli_args, target_path=project.target_path
        ).wait()
        self._invalidate_seeds_in_partial_parse(project)


dbt_project = DbtProject(
    project_dir=REPO_ROOT,
    profiles_dir=REPO_ROOT,
    target_path=os.environ.get("DBT_TARGET_PATH", "target"),
)


def manifest_is_stale() -> bool:
    """True when the manifest is missing or older than any file dbt parses.

    A stale manifest makes dagster-dbt fail on nodes it does not know (a test added since the last parse).
    """
    if not dbt_project.manifest_path.exists():
        return True
    built = dbt_project.manifest_path.stat().st_mtime
    for name in DBT_INPUTS:
        path = REPO_ROOT / name
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        if any(f.stat().st_mtime > built for f in files if f.is_file()):
            return True
    return False


def parse_if_stale() -> None:
    """Prepare the manifest, one process at a time: under `dagster dev` dagster-dbt's parse at every load,
    elsewhere `dbt parse` when the manifest is stale.

    Processes that start together on one checkout (pytest's workers collecting, two jobs launched at once, a
    job beside `dagster dev`) would otherwise each write target/ at the same time, leaving a manifest.json
    that is one parse's text with the tail of another's. Under an exclusive lock on a file beside it, the
    first parses and the others, once it is done, find the manifest fresh.
    """
    folder = dbt_project.manifest_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Under `dagster dev` the manifest is re-parsed at every load so model edits show up at once.
        VenvDbtPreparer().prepare_if_dev(dbt_project)
        # Elsewhere (python -m orchestration.run, tests, a fresh clone) parse when the project changed since.
        if manifest_is_stale():
            subprocess.run(
                dbt_command(["parse", "--quiet"], target_path=dbt_project.target_path),
                cwd=REPO_ROOT,
                check=True,
            )


parse_if_stale()
