"""GX suite for intermediate.int_touchpoints: every silo in the journey, nothing after the as-of instant.

What it guards. int_touchpoints is the journey: the union of nine sources, joined to CRM customers, built
incrementally per customer, and the only input of fct_journey_events. dbt tests hold the key and the
accepted values of stage, silo and type one column at a time. They do not notice a silo vanishing from the
journey (an inner join to billing accounts or survey matches that stops matching leaves valid, fewer
rows), customers losing their journey, one customer collecting everybody's rows (an identity join that
falls back to a default), a stage mapped to the wrong silo, or timestamps shifted past the data's as-of
instant (a broken UTC conversion of the mixed offsets, a unit error).

All batches aggregate in DuckDB to at most a dozen rows (25M touchpoints at 1M customers).

Absolute bounds (any company). Every CRM customer has a journey (its sign-up at least): at least 95%
blocking, 99% warning, to tolerate customers delivered before their subscriptions. Nothing can have
happened after the data was exported, so even one touchpoint at or after the as-of instant
(intermediate.int_warehouse_as_of.as_of_at, the end of the latest export day loaded) blocks. Every (stage,
silo, type, source) combination must be one the model defines. The row count may not fall more than 5%
between passing runs.

Learned bounds (expectations/learned.py): the company's own figures, set by its first passing run and
re-learned by every passing run. Measured on the generated companies they move with the length of the
history (seed 7; "e2e" the end-to-end test's 600 customers x 113 days; the others 730 days unless noted),
and another company's differ again (one without a billing or installation feed has a 0% share there):

| figure | e2e | 1,500 x 240 d | 10k | 1M | blocking drift | warning drift |
|---|---|---|---|---|---|---|
| touchpoints per customer, mean | 6.7 | 11.0 | 24.9 | 25.0 | x0.5 - x3 | x0.8 - x1.5 |
| touchpoints of the busiest customer | 16 | 26 | 67 | 77 | <= x4 + 20 | <= x2 + 10 |
| share billing | 0.401 | 0.594 | 0.759 | 0.758 | >= x0.25 | >= x0.5 |
| share marketing_sales | 0.369 | 0.224 | 0.102 | 0.102 | >= x0.25 | >= x0.5 |
| share installation | 0.151 | 0.098 | 0.048 | 0.048 | >= x0.25 | >= x0.5 |
| share care | 0.037 | 0.051 | 0.074 | 0.075 | >= x0.25 | >= x0.5 |
| share survey | 0.042 | 0.033 | 0.018 | 0.018 | >= x0.25 | >= x0.5 |

Between two runs a figure moves by a day's worth of history; a silo falling to a quarter of its share has
vanished or collapsed (an inner join that stopped matching), a mean halved or tripled means a journey
reduced to one row per customer or fanned out, a busiest customer four times the last one means rows of
many customers landed on one. A silo the company has no feed for learns a 0% share and passes; a share
only has floors, so a feed that starts later is welcome. A mean is at least 1 and a share in [0, 1] for
any company.
"""

import great_expectations.expectations as gxe

from expectations.learned import Drift, learned_between
from expectations.suite import ERROR, Batch, Suite, SuiteContext, row_count_batch
from expectations.suites.intermediate._shares import between

CUSTOMER_COVERAGE = ((0.95, None), (0.99, None))
# Learned figures: (absolute band, blocking drift, warning drift) around the company's last passing run.
TOUCHPOINTS_PER_CUSTOMER = ((1, None), Drift(below=0.5, above=3), Drift(below=0.8, above=1.5))
BUSIEST_CUSTOMER = ((1, None), Drift(above=4, slack=20), Drift(above=2, slack=10))
SILO_SHARE = ((0, 1), Drift(below=0.25), Drift(below=0.5))
SILOS = ("billing", "marketing_sales", "installation", "care", "survey")
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


def _silo_share_columns() -> str:
    return ",\n".join(
        f"avg(case when silo = '{silo}' then 1.0 else 0.0 end) as {silo}_share" for silo in SILOS
    )


def _learned(ctx: SuiteContext, column: str, bounds) -> list:
    absolute, blocking, warning = bounds
    return learned_between(ctx, column, absolute=absolute, blocking=blocking, warning=warning)


def build(ctx: SuiteContext) -> Suite:
    """Row count; customer coverage and rows per customer; every silo present; combinations; as-of bound."""
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
                    *_learned(ctx, "touchpoints_per_customer", TOUCHPOINTS_PER_CUSTOMER),
                    *_learned(ctx, "busiest_customer_touchpoints", BUSIEST_CUSTOMER),
                ],
            ),
            Batch(
                name="silo_shares",
                sql=f"select {_silo_share_columns()} from {{relation}}",
                expectations=[
                    expectation
                    for silo in SILOS
                    for expectation in _learned(ctx, f"{silo}_share", SILO_SHARE)
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
