"""GX suite for marts.rpt_defection_rate_by_poor_experience_count: rates, intervals, follow-up consistent."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Rates in [0, 1] inside their interval; every customer reached in exactly one follow-up outcome; a
    rate only where the status says estimated; rate rises from level 0 to 1."""
    return Suite(
        name="rpt_defection_rate_by_poor_experience_count",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="""
                    select
                        defection_rate,
                        customers_reached,
                        customers_defected,
                        estimate_status,
                        customers_reached - customers_defected - customers_reached_next_level
                            - customers_censored - customers_at_risk_at_horizon as customers_unaccounted,
                        case when (estimate_status = 'estimated') = (defection_rate is not null) then 0 else 1
                            end as rate_against_status,
                        defection_rate - defection_rate_ci_lower as below_rate,
                        defection_rate_ci_upper - defection_rate as above_rate
                    from {relation}
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="defection_rate", min_value=0, max_value=1, severity=ERROR
                    ),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="customers_reached",
                        column_B="customers_defected",
                        or_equal=True,
                        severity=ERROR,
                    ),
                    gxe.ExpectColumnValuesToBeBetween(column="below_rate", min_value=-1e-9, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(column="above_rate", min_value=-1e-9, severity=ERROR),
                    gxe.ExpectColumnValuesToBeInSet(
                        column="estimate_status",
                        value_set=["estimated", "insufficient_follow_up", "no_customers"],
                        severity=ERROR,
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="customers_unaccounted", min_value=0, max_value=0, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="rate_against_status", min_value=0, max_value=0, severity=ERROR
                    ),
                ],
            ),
            Batch(
                name="more_poor_experiences_more_defection",
                sql="""
                    select
                        max(defection_rate) filter (where poor_experience_level = 1)
                        - max(defection_rate) filter (where poor_experience_level = 0) as rise_from_0_to_1
                    from {relation}
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="rise_from_0_to_1", min_value=0, severity=WARNING
                    )
                ],
            ),
        ],
    )
