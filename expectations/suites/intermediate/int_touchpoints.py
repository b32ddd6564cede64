"""GX suite for intermediate.int_touchpoints: every silo in the journey, nothing after the as-of instant.

What it guards. int_touchpoints is the journey: the union of nine sources, joined to CRM customers, built
incrementally per customer, and the only input of fct_journey_events. dbt tests hold the key and the
accepted values of stage, silo and type one column at a time. They do not notice a silo vanishing from the
journey (an inner join to billing accounts or survey matches that stops matching leaves valid, fewer
rows), customers losing their journey, one customer collecting everybody's rows (an identity join that
falls back to a default), a stage mapped to the wrong silo, or timestamps shifted past the data's as-of
instant (a broken UTC conversion of the mixed offsets, a unit error).

All batches aggregate in DuckDB to at most a dozen rows (25M touchpoints at 1M customers).

The bounds, measured on the generated companies (seed 7; "e2e" is the end-to-end test's 600 customers x
113 days, seed 11; "bench" the benchmark test's 400 x 90 days; the others 730 days unless noted):

| figure | e2e | bench | 1,500 x 240 d | 10k | 100k | 1M | blocking | warning |
|---|---|---|---|---|---|---|---|---|
| CRM customers with a touchpoint | 1.0 | 1.0 | 1.0 | 1.0 | 1.0 | 0.999999 | >= 0.95 | >= 0.99 |
| touchpoints per customer, mean | 6.7 | 5.8 | 11.0 | 24.9 | 25.1 | 25.0 | 1.5-150 | 3-60 |
| touchpoints of the busiest customer | 16 | 13 | 26 | 67 | 73 | 77 | <= 1000 | <= 250 |
| share billing | 0.401 | 0.341 | 0.594 | 0.759 | 0.758 | 0.758 | >= 0.10 | >= 0.20 |
| share marketing_sales | 0.369 | 0.431 | 0.224 | 0.102 | 0.102 | 0.102 | >= 0.02 | >= 0.05 |
| share installation | 0.151 | 0.173 | 0.098 | 0.048 | 0.048 | 0.048 | >= 0.005 | >= 0.02 |
| share care | 0.037 | 0.016 | 0.051 | 0.074 | 0.075 | 0.075 | >= 0.005 | >= 0.01 |
| share survey | 0.042 | 0.039 | 0.033 | 0.018 | 0.018 | 0.018 | >= 0.002 | >= 0.008 |
| touchpoints at or after the as-of instant | 0 | 0 | 0 | 0 | 0 | 0 | 0 | |
| touchpoints (rows) | 3,796 | 2,281 | 16,567 | 249,099 | 2,502,206 | 24,994,026 | | |

Silo shares move with the length of the history (invoices and payments accumulate monthly, sign-ups and
visits happen once), so the floors are set below the smallest share any size reached: a warning at about
half of it, blocking at a tenth to a third, which only a silo that vanished or collapsed reaches. A silo
the selected company profile does not declare (companies/<name>/profile.yml, silos) has no floor: the
company has no feed for it. The
mean per customer grows with the history too; its blocking band only catches a journey reduced to one
row per customer or fanned out by an order of magnitude. The busiest customer has about three times the
mean at every size; a thousand rows means rows of many customers landed on one. The as-of instant
(intermediate.int_warehouse_as_of.as_of_at, the end of the latest export day loaded) bounds every event:
nothing can have happened after the data was exported, so even one later touchpoint blocks. Every
(stage, silo, type, source) combination must be one the model defines. The row count may not fall more
than 5% between passing runs.
"""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext, row_count_batch
from expectations.suites.intermediate._shares import between

CUSTOMER_COVERAGE = ((0.95, None), (0.99, None))
TOUCHPOINTS_PER_CUSTOMER = ((1.5, 150), (3, 60))
BUSIEST_CUSTOMER = ((None, 1000), (None, 250))
# silo: ((blocking floor, None), (warning floor, None))
SILO_SHARE_FLOORS = {
    "billing": ((0.10, None), (0.20, None)),
    "marketing_sales": ((0.02, None), (0.05, None)),
    "installation": ((0.005, None), (0.02, None)),
    "care": ((0.005, None), (0.01, None)),
    "survey": ((0.002, None), (0.008, None)),
}
# stage / silo / touchpoint_type / source_table, as int_touchpoints.sql builds them.
COMBINATIONS = [
    "marketing / marketing_sales / campaign_offer / stg_crm__campaigns",
    "sign_up / marketing_sales / subscription_started / stg_crm__subscriptions",
    "installation / installation / appointment / stg_crm__appointments",
    "care / care / contact / stg_crm__contacts",
    "care / care / case_opened / stg_crm__cases",
    "complaint / care / complaint_case / stg_crm__cases",
    "billing / billing / invoice / stg_billing__invoices",
    "payment / billing / payment_attempt / stg_billing__payments",
    "billing / billing / adjustment / stg_billing__adjustments",
    "survey / survey / survey_response / stg_survey__responses",
]


def _silo_share_floors() -> dict:
    """The floors of the silos the company profile declares (companies/<name>/profile.yml, silos): a silo the
    company has no feed for has no touchpoints by declaration, so no floor."""
    from raw.profile import load_profile

    profile = load_profile()
    return {silo: floors for silo, floors in SILO_SHARE_FLOORS.items() if profile.has_silo(silo)}


def _silo_share_columns(floors: dict) -> str:
    return (
        ",\n".join(f"avg(case when silo = '{silo}' then 1.0 else 0.0 end) as {silo}_share" for silo in floors)
        or "count(*) as touchpoints"
    )


def build(ctx: SuiteContext) -> Suite:
    """Row count; customer coverage and rows per customer; every silo present; combinations; as-of bound."""
    floors = _silo_share_floors()
    return Suite(
        name="int_touchpoints",
        layer="intermediate",
        batches=[
            row_count_batch(ctx, tolerance=0.05),
            Batch(
                name="per_customer",
                sql="""
                    select
                        count(*) / nullif((select count(*) from staging.stg_crm__customers), 0)
                            as customer_coverage,
                        avg(touchpoints) as touchpoints_per_customer,
                        max(touchpoints) as busiest_customer_touchpoints
                    from (
                        select customer_id, count(*) as touchpoints
                        from {relation}
                        group by customer_id
                    ) as per_customer
                """,
                expectations=[
                    *between("customer_coverage", *CUSTOMER_COVERAGE),
                    *between("touchpoints_per_customer", *TOUCHPOINTS_PER_CUSTOMER),
                    *between("busiest_customer_touchpoints", *BUSIEST_CUSTOMER),
                ],
            ),
            Batch(
                name="silo_shares",
                sql=f"select {_silo_share_columns(floors)} from {{relation}}",
                expectations=[
                    expectation
                    for silo, (blocking, warning) in floors.items()
                    for expectation in between(f"{silo}_share", blocking, warning)
                ],
            ),
            Batch(
                name="combinations",
                # Grouped first, spelled out after: concatenating 25M rows would cost more than the scan.
                sql="""
                    select
                        concat_ws(
                            ' / ',
                            coalesce(stage, 'null'),
                            coalesce(silo, 'null'),
                            coalesce(touchpoint_type, 'null'),
                            coalesce(source_table, 'null')
                        ) as combination,
                        touchpoints
                    from (
                        select stage, silo, touchpoint_type, source_table, count(*) as touchpoints
                        from {relation}
                        group by stage, silo, touchpoint_type, source_table
                    ) as combinations
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeInSet(
                        column="combination", value_set=COMBINATIONS, severity=ERROR
                    ),
                ],
            ),
            Batch(
                name="as_of",
                sql="""
                    select count(*) filter (where touchpoints.occurred_at >= as_of.as_of_at)
                        as touchpoints_after_as_of
                    from {relation} as touchpoints
                    cross join intermediate.int_warehouse_as_of as as_of
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="touchpoints_after_as_of", min_value=0, max_value=0, severity=ERROR
                    ),
                ],
            ),
        ],
    )
