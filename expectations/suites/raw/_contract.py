"""What every raw table's suite checks, derived from raw/contract.yml so the gates follow the contract.

Raw batches read only the export days being loaded (`{where}`), so a suite judges the new delivery rather
than re-reading history.
"""

from __future__ import annotations

import math
from dataclasses import replace

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext, row_count_batch
from raw.contract import TableSpec, load_contract

# A re-delivered record now and then is normal untidiness; a day where a large share of a table comes twice
# is a broken export. Small days get an absolute allowance so one duplicate among three rows is not an alarm.
DUPLICATE_SHARE_LIMIT = 0.2
DUPLICATE_ALLOWANCE = 5

# An optional column has vanished from a day when, judged by the table's own recent history (its delivery
# days in the HISTORY_DAYS days before), a day of that size holding no value at all would be rarer than
# VANISHED_CHANCE. The chance is small because the check runs for every optional column of every table and
# day. The share of values in history is taken as values / (rows + 1), so that a short history cannot make
# one empty value look impossible. The day's header decides what it means (raw.load_audit.absent_columns):
# a column the header no longer carries is one the source stopped sending, and blocks; a column still in the
# header but empty all day only warns, because values that come in campaigns (promotion codes, a survey
# wave) pause for days together, which the row-by-row chance cannot tell from an export that lost them.
HISTORY_DAYS = 28
VANISHED_CHANCE = 1e-9


def contract_tables() -> dict[str, TableSpec]:
    """The raw landing contract's tables, as the loader reads them (raw/contract.py)."""
    return load_contract().tables


def raw_suite(table: str, ctx: SuiteContext, columns: str, expectations: list[gxe.Expectation]) -> Suite:
    """Contract checks of `table` (row count, volume, duplicate deliveries, vanished columns) plus the
    table's own row checks (`columns` read by the `rows` batch, judged by `expectations`).

    Required columns are not checked here: the loader quarantines a row with an empty required value and
    the raw table declares them NOT NULL (raw/load/schema.py), so no NULL can land there.
    """
    spec = contract_tables()[table]
    own = [c.strip() for c in columns.split(",")]
    key = ", ".join(spec.key)
    batches = [
        # The whole table's count, recorded as the next run's baseline; the volume batch judges it.
        row_count_batch(replace(ctx, previous_row_count=None)),
        volume_batch(table),
        Batch(
            name="rows",
            sql=f"select {', '.join(dict.fromkeys(own))} from {{relation}} where {{where}}",
            expectations=list(expectations),
        ),
        Batch(
            name="duplicate_deliveries",
            sql=f"""
                select
                    _export_date,
                    count(*) as delivered_rows,
                    count(*) - count(distinct ({key})) as duplicate_rows,
                    count(*) - count(distinct ({key}))
                        - greatest({DUPLICATE_ALLOWANCE}, {DUPLICATE_SHARE_LIMIT} * count(*))
                        as excess_duplicates
                from {{relation}}
                where {{where}}
                group by _export_date
            """,
            expectations=[
                gxe.ExpectColumnValuesToBeBetween(
                    column="excess_duplicates",
                    max_value=0,
                    severity=ERROR,
                    meta={
                        "rule": f"per export day, duplicates of ({key}) <= max({DUPLICATE_ALLOWANCE}, "
                        f"{DUPLICATE_SHARE_LIMIT:.0%} of rows)"
                    },
                )
            ],
        ),
    ]
    optional = [c.name for c in spec.columns if not c.required]
    if optional:
        batches.append(vanished_columns_batch(table, optional))
    return Suite(name=table, layer="raw", batches=batches)


def volume_batch(table: str) -> Batch:
    """The table's rows against the count recorded by the last passing run: none may be missing except the
    rows re-deliveries took away since (raw.load_withdrawals: a corrected day with fewer rows replaces the
    one before it). No row when there is no baseline yet."""
    name = table.replace("'", "''")
    return Batch(
        name="volume",
        sql=f"""
            select *, previous_row_count - row_count - rows_withdrawn as missing_rows
            from (
                select
                    baseline.row_count as previous_row_count,
                    (select count(*) from {{relation}}) as row_count,
                    (
                        select coalesce(sum(rows_withdrawn), 0) from raw.load_withdrawals
                        where table_name = '{name}' and withdrawn_at > baseline.recorded_at
                    ) as rows_withdrawn
                from (
                    select row_count, recorded_at from audit.gx_row_counts
                    where suite_name = '{name}'
                    order by recorded_at desc
                    limit 1
                ) as baseline
            ) as volume
        """,
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(
                column="missing_rows",
                max_value=0,
                severity=ERROR,
                meta={"rule": "rows now >= rows at the last passing run - rows re-deliveries withdrew since"},
            )
        ],
    )


def vanished_columns_batch(table: str, optional: list[str]) -> Batch:
    """Per export day under test, two 0/1 flags per optional column when the day has rows but no value in
    the column although the table's recent history makes that all but impossible (see VANISHED_CHANCE):
    `<column>_vanished` when the day's header did not carry the column (blocks), `<column>_emptied` when it
    did (warns)."""
    name = table.replace("'", "''")
    counts = ", ".join(f"count({c}) as {c}" for c in optional)
    history = ", ".join(f"sum({c}) over recent as history_{c}" for c in optional)

    def improbable(column: str) -> str:
        return (
            f"n > 0 and {column} = 0 and history_{column} > 0 "
            f"and n * ln(1 - history_{column} / (history_rows + 1)) < {math.log(VANISHED_CHANCE)}"
        )

    def absent(column: str) -> str:
        return f"list_contains(string_split(coalesce(absent_columns, ''), ','), '{column}')"

    flags = ", ".join(
        f"case when {improbable(c)} and {absent(c)} then 1 else 0 end as {c}_vanished, "
        f"case when {improbable(c)} and not {absent(c)} then 1 else 0 end as {c}_emptied"
        for c in optional
    )

    def rule(column: str, what: str) -> dict:
        return {
            "rule": f"a day whose header {what} {column} but that holds no {column} value at all is no "
            f"rarer than {VANISHED_CHANCE:g} judged by the {HISTORY_DAYS} days before it"
        }

    return Batch(
        name="vanished_columns",
        sql=f"""
            select _export_date, n, {flags}
            from (
                select _export_date, n, {", ".join(optional)}, sum(n) over recent as history_rows, {history}
                from (
                    select _export_date, count(*) as n, {counts}
                    from {{relation}}
                    where _export_date >= (select min(_export_date) from {{relation}} where {{where}})
                        - interval {HISTORY_DAYS + 1} day
                    group by _export_date
                ) as per_day
                window recent as (order by _export_date rows between {HISTORY_DAYS} preceding and 1 preceding)
            ) as judged
            left join (
                -- the header of the day's latest delivery of the table
                select export_date, arg_max(absent_columns, loaded_at) as absent_columns
                from raw.load_audit
                where table_name = '{name}' and absent_columns is not null
                group by export_date
            ) as headers
                on judged._export_date = headers.export_date
            where {{where}}
        """,
        expectations=[
            expectation
            for c in optional
            for expectation in (
                gxe.ExpectColumnValuesToBeBetween(
                    column=f"{c}_vanished", max_value=0, severity=ERROR, meta=rule(c, "no longer carries")
                ),
                gxe.ExpectColumnValuesToBeBetween(
                    column=f"{c}_emptied", max_value=0, severity=WARNING, meta=rule(c, "still carries")
                ),
            )
        ],
    )
