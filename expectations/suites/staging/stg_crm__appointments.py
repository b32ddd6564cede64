"""GX suite for staging.stg_crm__appointments: windows forwards, completion after arrival, in UTC."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Completion after arrival (after the UTC conversion too) and a plausible share of no-shows."""
    return Suite(
        name="stg_crm__appointments",
        layer="staging",
        batches=[
            Batch(
                name="rows",
                sql="select window_start_at, window_end_at, arrived_at, completed_at, status from {relation}",
                expectations=[
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="window_end_at", column_B="window_start_at", or_equal=True, severity=ERROR
                    ),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="completed_at",
                        column_B="arrived_at",
                        or_equal=True,
                        ignore_row_if="either_value_is_missing",
                        mostly=0.99,
                        severity=ERROR,
                    ),
                ],
            ),
            Batch(
                name="no_show_share",
                sql="select avg(case when status = 'NO_SHOW' then 1.0 else 0.0 end) as no_show_share "
                "from {relation}",
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="no_show_share", min_value=0.0, max_value=0.3, severity=WARNING
                    )
                ],
            ),
        ],
    )
