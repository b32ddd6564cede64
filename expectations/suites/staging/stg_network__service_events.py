"""GX suite for staging.stg_network__service_events: events end after they start (in UTC too) and name
customers the CRM knows. Empty, and passing, for a company without the network feed."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Batch, Suite, SuiteContext
from expectations.suites._order import service_event_order


def build(ctx: SuiteContext) -> Suite:
    """Ended at or after started once converted to UTC; nearly every event names a known customer."""
    return Suite(
        name="stg_network__service_events",
        layer="staging",
        batches=[
            Batch(
                name="rows",
                sql="""
                    select
                        events.started_at,
                        events.ended_at,
                        customers.customer_id is not null as names_known_customer
                    from {relation} as events
                    left join staging.stg_crm__customers as customers
                        on events.customer_id = customers.customer_id
                """,
                expectations=[
                    *service_event_order(),
                    # An event of a customer the CRM does not know is left out of every journey.
                    gxe.ExpectColumnValuesToBeInSet(
                        column="names_known_customer", value_set=[True], mostly=0.95, severity=WARNING
                    ),
                ],
            )
        ],
    )
