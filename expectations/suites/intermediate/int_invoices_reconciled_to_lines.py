"""GX suite for intermediate.int_invoices_reconciled_to_lines: invoice totals agree with their lines.

What it guards. The model puts every invoice beside the sum of its lines and flags a total that disagrees
(kept, never corrected); billing poor experiences (overcharges, promotions not applied) and the billed
totals of the marts read these numbers. dbt tests hold the key and the not-null flag; they cannot tell a
handful of planted disagreements (billing systems do produce a few) from a broken line join, a line
staging that de-duplicates wrongly, or amounts read in the wrong unit, which all leave valid rows whose
totals disagree in bulk, and they do not notice invoices losing their customer.

The bounds, measured on the generated companies (seed 7; "e2e" is the end-to-end test's 600 customers x
113 days, seed 11; "bench" the benchmark test's 400 x 90 days; the others 730 days unless noted):

| figure | e2e | bench | 1,500 x 240 d | 10k | 100k | 1M | blocking | warning |
|---|---|---|---|---|---|---|---|---|
| total equals the lines | 0.9942 | 0.9914 | 0.9969 | 0.9969 | 0.9969 | 0.9969 | >= 0.98 | >= 0.99 |
| invoices with 1-20 lines | 1.0 | 1.0 | 1.0 | 1.0 | 0.99998 | 0.99998 | >= 0.999 | >= 0.9999 |
| sum lines / sum totals | 0.9994 | 0.9986 | 0.9998 | 0.9998 | 0.9998 | 0.9998 | 0.98-1.02 | 0.995-1.005 |
| mean lines per invoice | 3.01 | 3.10 | 2.34 | 1.94 | 1.93 | 1.93 | learned x0.5-x2 | learned x0.8-x1.25 |
| invoices with a customer | 1.0 | 1.0 | 1.0 | 1.0 | 1.0 | 0.9999998 | >= 0.95 | >= 0.99 |
| invoices (rows) | 860 | 463 | 5,127 | 94,735 | 950,973 | 9,498,940 | | |

The generator plants disagreeing totals on 0.3% of invoices (a few hundred minor units more than the
lines); in short histories a line still in transit (delivered late, after the last day loaded) weighs
more, hence 0.6-0.9% in the two smallest companies. At
most 2% may disagree before the gate blocks (the tolerance the staging suite allows double collections),
1% before it warns. A line join that breaks makes every invoice disagree, one that fans out doubles both
the line count and the lines' sum, an amount read in the wrong unit moves the ratio by orders of
magnitude. Invoices without lines (lines not delivered yet) or with more than 20 (the generator bills at
most 8) may be one in a thousand. The mean number of lines describes the company's billing (and falls
with longer histories: a first invoice carries the set-up fees), so it is learned from the company's own
last passing run (expectations/learned.py): halved or doubled between two runs it blocks, a fifth less or
a quarter more warns. An invoice without a customer has an account nobody matched: billing then vanishes
from that customer's journey. The row count may not fall more than 5% between passing runs.

Cost. All figures come from one scan aggregated to one row (9.5M invoices at 1M customers).
"""

from expectations.learned import Drift, learned_between
from expectations.suite import Batch, Suite, SuiteContext, row_count_batch
from expectations.suites.intermediate._shares import between

# (blocking band, warning band); None leaves that end open.
TOTAL_EQUALS_LINES = ((0.98, None), (0.99, None))
LINE_COUNT_RANGE = (1, 20)
LINE_COUNT_IN_RANGE = ((0.999, None), (0.9999, None))
LINES_TO_TOTAL_RATIO = ((0.98, 1.02), (0.995, 1.005))
# Learned: (absolute band, blocking drift, warning drift) around the company's last passing run.
MEAN_LINES_PER_INVOICE = ((0, None), Drift(below=0.5, above=2), Drift(below=0.8, above=1.25))
WITH_CUSTOMER = ((0.95, None), (0.99, None))


def build(ctx: SuiteContext) -> Suite:
    """Row count; totals equal their lines for nearly every invoice; line counts and sums plausible."""
    low, high = LINE_COUNT_RANGE
    return Suite(
        name="int_invoices_reconciled_to_lines",
        layer="intermediate",
        batches=[
            row_count_batch(ctx, tolerance=0.05),
            Batch(
                name="reconciliation",
                # One scan, one row. The shares are recomputed from the numbers, not read from the model's
                # is_total_mismatch flag, so a broken flag cannot hide a broken reconciliation.
                sql=f"""
                    select
                        avg(case when total_minor = lines_total_minor then 1.0 else 0.0 end)
                            as total_equals_lines_share,
                        avg(case when line_count between {low} and {high} then 1.0 else 0.0 end)
                            as line_count_in_range_share,
                        sum(lines_total_minor) / nullif(sum(total_minor), 0) as lines_to_total_ratio,
                        avg(line_count) as mean_lines_per_invoice,
                        avg(case when customer_id is not null then 1.0 else 0.0 end) as with_customer_share
                    from {{relation}}
                """,
                expectations=[
                    *between("total_equals_lines_share", *TOTAL_EQUALS_LINES),
                    *between("line_count_in_range_share", *LINE_COUNT_IN_RANGE),
                    *between("lines_to_total_ratio", *LINES_TO_TOTAL_RATIO),
                    *learned_between(
                        ctx,
                        "mean_lines_per_invoice",
                        absolute=MEAN_LINES_PER_INVOICE[0],
                        blocking=MEAN_LINES_PER_INVOICE[1],
                        warning=MEAN_LINES_PER_INVOICE[2],
                    ),
                    *between("with_customer_share", *WITH_CUSTOMER),
                ],
            ),
        ],
    )
