"""Every relation dbt creates fits every engine's identifier limit (PostgreSQL: 63 bytes), so a new model,
seed or unit test cannot break the PostgreSQL build by its name alone. Reads the manifest; needs no engine."""

from orchestration.dbt_assets import manifest

POSTGRES_MAX_IDENTIFIER = 63


def test_every_relation_and_unit_test_name_fits_postgres():
    parsed = manifest()
    named = {
        node["name"]
        for node in parsed["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot")
    } | {unit_test["name"] for unit_test in parsed["unit_tests"].values()}
    assert len(named) > 60, "the manifest lists too few models, seeds and unit tests to be this project's"
    too_long = sorted(name for name in named if len(name.encode()) > POSTGRES_MAX_IDENTIFIER)
    assert not too_long, f"names over {POSTGRES_MAX_IDENTIFIER} bytes: {too_long}"
