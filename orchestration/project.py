"""The dbt project as Dagster sees it: one DbtProject at the repo root (Dagster's dbt examples layout).

DBT_TARGET_PATH (default `target`) lets tests parse into a temporary folder instead of the repo's target/.
"""

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtProject

from settings import REPO_ROOT
from settings.dbt import dbt_command, dbt_env_vars, dbt_input_files

# Beside the manifest: the values of the environment variables the project read when it was parsed, and the
# manifest's modification time then.
PARSE_RECORD = "parse_record.json"


class VenvDbtPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (parse at every load under `dagster dev`), running the venv's dbt and writing
    the parse's files as parse() does.

    dagster-dbt's own preparer runs the `dbt` it finds on PATH, which is not the venv's when the venv is not
    activated (a fresh clone's `make dev`): the code location would fail to load.
    """

    def _prepare_manifest(self, project: DbtProject) -> None:
        parse()
        self._invalidate_seeds_in_partial_parse(project)


dbt_project = DbtProject(
    project_dir=REPO_ROOT,
    profiles_dir=REPO_ROOT,
    target_path=os.environ.get("DBT_TARGET_PATH", "target"),
)


def _parse_record_path() -> Path:
    return dbt_project.manifest_path.parent / PARSE_RECORD


def _parse_record() -> dict:
    """What a parse depends on besides the files: the environment's values, and the manifest it wrote."""
    return {"env": dbt_env_vars(), "manifest_mtime_ns": dbt_project.manifest_path.stat().st_mtime_ns}


def manifest_is_stale() -> bool:
    """True when the manifest is missing, older than any file dbt parses, parsed with other values of the
    environment variables the project reads, or written since by another dbt command.

    A stale manifest makes dagster-dbt fail on nodes it does not know (a test added since the last parse).
    One parsed in another environment (another WAREHOUSE_PATH, DBT_TARGET or COMPANY_PROFILE) gives Dagster
    that environment's asset graph, and its partial_parse.msgpack, which dagster-dbt hands to every dbt
    invocation, names another profile: each invocation would parse the project in full again. A `dbt build`
    run by hand from the repo root writes target/ too, in whatever environment it had.
    """
    if not dbt_project.manifest_path.exists():
        return True
    built = dbt_project.manifest_path.stat().st_mtime
    if any(f.stat().st_mtime > built for f in dbt_input_files()):
        return True
    try:
        recorded = json.loads(_parse_record_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return True
    return recorded != _parse_record()


def parse() -> None:
    """`dbt parse` into a folder of its own, then each of its files moved into the target folder at once
    (os.replace), the parse record removed first and written last: a process reading target/ meanwhile (a
    run's dbt copying partial_parse.msgpack, a definitions load) finds either the previous file or the new
    one, never part of one, and a parse that fails or is killed leaves the manifest stale."""
    target = dbt_project.manifest_path.parent
    with tempfile.TemporaryDirectory(prefix=".parse-", dir=target) as scratch:
        previous = target / "partial_parse.msgpack"
        if previous.exists():  # dbt parses only the files that changed since
            shutil.copy(previous, scratch)
        subprocess.run(dbt_command(["parse", "--quiet"], target_path=scratch), cwd=REPO_ROOT, check=True)
        _parse_record_path().unlink(missing_ok=True)
        for written in Path(scratch).iterdir():
            if written.is_file():
                os.replace(written, target / written.name)
    scratch_record = target / f".{PARSE_RECORD}.{os.getpid()}"
    scratch_record.write_text(json.dumps(_parse_record(), indent=1))
    os.replace(scratch_record, _parse_record_path())


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
            parse()


parse_if_stale()
