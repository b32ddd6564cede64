"""GX suite for intermediate.int_billing_accounts_matched_to_customers: billing accounts find their customer.

What it guards. Every invoice, payment and adjustment reaches a customer through this match (the billing
silo's touchpoints, billing poor experiences, the payment failures before an involuntary defection). The
account's own crm_customer_id wins when it names a CRM customer; the normalised billing e-mail rescues an
account whose link points at nobody. dbt tests hold the key, the accepted values and the relationship to
CRM customers. None of them fails when the link join stops matching (the e-mail then quietly takes over
for most accounts) or when the e-mail rescue dies: billing e-mails all arrive in upper case, so a dropped
lower() in the normalisation leaves every dangling account unmatched while the table stays valid.

The bounds, measured on the generated companies (seed 7; "e2e" is the end-to-end test's 600 customers x
113 days, seed 11; "bench" the benchmark test's 400 x 90 days; the others 730 days unless noted):

| share | e2e | bench | 1,500 x 240 d | 10k | 100k | 1M | blocking | warning |
|---|---|---|---|---|---|---|---|---|
| accounts matched to a customer | 1.000 | 0.9975 | 1.000 | 1.000 | 0.99992 | 0.99996 | >= 0.95 | >= 0.99 |
| with a crm_customer_id: matched by it | 0.9965 | 0.995 | 0.998 | 0.998 | 0.998 | 0.998 | >= 0.95 | >= 0.98 |
| dangling link with an e-mail: rescued | 1.0 | 0.5 | 1.0 | 1.0 | 0.961 | 0.980 | >= 0.5 (n >= 10) | >= 0.9 |
| (n: dangling links with an e-mail) | 2 | 2 | 3 | 20 | 207 | 2,038 | | |

The generator plants 0.2% of accounts whose link names an unknown customer (as CRM merges do), at least
one per company; nearly all are rescued by their e-mail, the few that are not carry an address no CRM
customer holds (checked at 100k: all 8). A broken link join takes the second share to 0, a broken e-mail
normalisation the third, both together the first. The floors sit far below what untidy data reaches and far
above those collapses. The rescue share blocks only once there are at least 10 dangling accounts to
judge: small companies have one to three, and one of two legitimately staying unmatched (the benchmark
test's company) would otherwise block; it warns at any count. The row count may not fall more than 5%
between passing runs.

The share batches are plain scans that GX judges in place with `mostly` (pushed down to DuckDB: one
aggregate query per metric, at most 20 unexpected values come back); the rescue batch is one row.
"""

from expectations.suite import Batch, Suite, SuiteContext, row_count_expectation
from expectations.suites.intermediate._shares import between, share_in_set

MATCHED = (0.95, 0.99)
MATCHED_BY_LINK = (0.95, 0.98)
RESCUED_BY_EMAIL = ((0.5, None), (0.9, None))
# Fewer dangling accounts than this are too few to block on (their rescue share still warns).
RESCUE_JUDGED_FROM = 10


def build(ctx: SuiteContext) -> Suite:
    """Row count; shares matched overall, matched by the CRM link, dangling links rescued by the e-mail."""
    blocking, warning = RESCUED_BY_EMAIL
    return Suite(
        name="int_billing_accounts_matched_to_customers",
        layer="intermediate",
        batches=[
            Batch(
                name="rows",
                sql="select match_status from {relation}",
                expectations=[
                    row_count_expectation(ctx, tolerance=0.05),
                    *share_in_set("match_status", ["matched"], MATCHED),
                ],
            ),
            Batch(
                name="with_crm_link",
                sql="select match_method from {relation} where crm_customer_id is not null",
                expectations=share_in_set("match_method", ["crm_customer_id"], MATCHED_BY_LINK),
            ),
            Batch(
                name="email_rescue",
                sql=f"""
                    select
                        count(*) as dangling_links_with_email,
                        avg(case when match_method = 'billing_email' then 1.0 else 0.0 end) as rescued_share,
                        case when count(*) >= {RESCUE_JUDGED_FROM} then
                            avg(case when match_method = 'billing_email' then 1.0 else 0.0 end)
                        end as rescued_share_judged
                    from {{relation}}
                    where has_dangling_crm_customer_id and billing_email is not null
                """,
                expectations=[
                    *between("rescued_share_judged", blocking=blocking),
                    *between("rescued_share", warning=warning),
                ],
            ),
        ],
    )
