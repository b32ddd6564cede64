"""GX suite for intermediate.int_survey_responses_matched_to_customers: survey answers find their customer.

What it guards. The survey tool knows only e-mail addresses, so every survey touchpoint and every survey
poor experience (low CSAT or NPS) reaches a customer through this match: the respondent's normalised
address, else the invitation's (macros/normalize_email.sql, int_customer_emails_resolved). dbt tests hold
the key, the accepted values and the customer relationship; none of them notices when the match quietly
stops working, because unmatched rows are kept by design. A normalisation dropped on one side (30% of the
addresses arrive in another case or padded with spaces) or a broken invitation/survey join leaves every
row valid and the survey silo half empty. This suite judges the shares.

The bounds, measured on the generated companies (seed 7; "e2e" is the end-to-end test's 600 customers x
113 days, seed 11; "bench" the benchmark test's 400 x 90 days; the others 730 days unless noted):

| share | e2e | bench | 1,500 x 240 d | 10k | 100k | 1M | blocking | warning |
|---|---|---|---|---|---|---|---|---|
| responses matched to a customer | 0.976 | 0.967 | 0.984 | 0.987 | 0.987 | 0.987 | >= 0.90 | >= 0.95 |
| with an own address: matched by it | 0.967 | 0.951 | 0.977 | 0.981 | 0.981 | 0.981 | >= 0.85 | >= 0.94 |
| without: matched by the invitation | 1.000 | 1.000 | 1.000 | 1.000 | 0.9998 | 0.9999 | >= 0.85 | >= 0.95 |
| survey (type and scale) known | 1.000 | 1.000 | 1.000 | 1.000 | 0.9999 | 0.9999 | >= 0.95 | >= 0.99 |
| score on the survey's scale | 0.982 | 0.978 | 0.987 | 0.988 | 0.988 | 0.988 | >= 0.90 | >= 0.96 |
| responses (rows) | 165 | 92 | 552 | 4,457 | 45,145 | 451,189 | | |

Real untidy data leaves 1-3.5% unmatched (answers from addresses no customer has: the generator plants 2%,
at least one) and 1-2% off the scale (planted answers on invitations nobody answered). Measured at 10k by
matching the addresses as delivered: without the normalisation of the response addresses "matched by its
own address" falls to 0.685; without that of the customers' addresses it falls to 0.685 and "matched" to
0.755. A broken invitation or survey join takes the invitation fallback and the known survey to 0 (and
with the survey its type and scale, which the survey poor-experience rules read). The blocking floors sit
well above those collapses and below anything the untidy data reached; the warning bands sit below every
measured share, the two smallest companies included, so a drift of a few points is reported before it is
large enough to block. The row count may not fall more than 5% between passing runs (responses are only
ever added).

One batch, a plain scan that GX judges in place with `mostly` (pushed down to DuckDB: one aggregate query
per metric, at most 20 unexpected values come back), 451k rows at 1M customers. The shares by address are
columns that are null outside the rows they count (GX leaves nulls out of `mostly`), so they need no
filtered batch of their own: each batch costs GX about 0.1 s of Python.
"""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext, row_count_expectation
from expectations.suites.intermediate._shares import share_in_set

MATCHED = (0.90, 0.95)
MATCHED_BY_OWN_ADDRESS = (0.85, 0.94)
MATCHED_BY_INVITATION = (0.85, 0.95)
SURVEY_KNOWN = (0.95, 0.99)
SCORE_ON_SCALE = (0.90, 0.96)


def build(ctx: SuiteContext) -> Suite:
    """Row count; shares matched overall, by the response's own address, by the invitation; survey known."""
    return Suite(
        name="int_survey_responses_matched_to_customers",
        layer="intermediate",
        batches=[
            Batch(
                name="rows",
                sql=(
                    "select match_status, survey_type, is_score_in_range,"
                    " case when response_email is not null then match_method end as method_with_own_address,"
                    " case when response_email is null then match_method end as method_without_own_address"
                    " from {relation}"
                ),
                expectations=[
                    row_count_expectation(ctx, tolerance=0.05),
                    *share_in_set("match_status", ["matched"], MATCHED),
                    gxe.ExpectColumnValuesToNotBeNull(
                        column="survey_type", mostly=SURVEY_KNOWN[0], severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToNotBeNull(
                        column="survey_type", mostly=SURVEY_KNOWN[1], severity=WARNING
                    ),
                    *share_in_set("is_score_in_range", [True], SCORE_ON_SCALE),
                    *share_in_set("method_with_own_address", ["response_email"], MATCHED_BY_OWN_ADDRESS),
                    *share_in_set("method_without_own_address", ["invitation_email"], MATCHED_BY_INVITATION),
                ],
            ),
        ],
    )
