"""GX suite for staging.stg_crm__contacts: the distribution of waits and transfers stays plausible."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Median wait and mean transfers in bands; a shift means a unit change or a broken export."""
    return Suite(
        name="stg_crm__contacts",
        layer="staging",
        batches=[
            Batch(
                name="rows",
                sql="select wait_seconds, transfer_count from {relation}",
                expectations=[
                    gxe.ExpectColumnMedianToBeBetween(
                        column="wait_seconds", min_value=0, max_value=1800, severity=WARNING
                    ),
                    gxe.ExpectColumnMeanToBeBetween(
                        column="transfer_count", min_value=0, max_value=3, severity=WARNING
                    ),
                ],
            )
        ],
    )
