"""GX suite for staging.stg_crm__appointments: windows forwards, completion after arrival, in UTC.

The share of no-shows describes the company's customers and technicians: it is learned from the company's
own last passing run (expectations/learned.py) and warns when it halves or doubles (give or take 2 points).
"""

from expectations.learned import Drift, learned_between
from expectations.suite import Batch, Suite, SuiteContext
from expectations.suites._order import appointment_order

# Absolute band and warning drift of the learned share of no-shows.
NO_SHOW_SHARE = ((0, 1), Drift(below=0.5, above=2, slack=0.02))


def build(ctx: SuiteContext) -> Suite:
    """Completion after arrival (after the UTC conversion too) and the learned share of no-shows."""
    return Suite(
        name="stg_crm__appointments",
        layer="staging",
        batches=[
            Batch(
                name="rows",
                sql="select window_start_at, window_end_at, arrived_at, completed_at, status from {relation}",
                expectations=appointment_order(),
            ),
            Batch(
                name="no_show_share",
                sql="select avg(case when status = 'NO_SHOW' then 1.0 else 0.0 end) as no_show_share "
                "from {relation}",
                expectations=learned_between(
                    ctx,
                    "no_show_share",
                    absolute=NO_SHOW_SHARE[0],
                    blocking=Drift(),
                    warning=NO_SHOW_SHARE[1],
                ),
            ),
        ],
    )
