"""GX suite for marts.rpt_cancel_reason_coverage: how much free-text cancel wording the vocabulary knows.

What it guards. A cancellation without a code is classified by its free text against the company's
vocabulary (seeds/cancel_reason_vocabulary.csv, whole-word phrases). Text that matches no phrase becomes
OTHER, which the stated-reason figures (fct_defections, rpt_defections_by_silo under the stated rule) then
cannot attribute to any silo. Nothing is wrong with such a row, so no blocking gate can catch it; what
matters is the share. When agents' wording drifts from the vocabulary (a new CRM, a new team, another
language) the share grows and the stated attribution quietly loses its reasons.

Blocking (absolute, the report's own invariants): exactly one row, the share in [0, 1].

Warning (the bound to tune): unclassified_text_share <= UNCLASSIFIED_TEXT_SHARE_MAX (0.10): at most one in
ten free-text reasons unclassified. The generated companies word their reasons from the vocabulary, so their
share is 0; a real export classified with substring keywords left about a third unclassified. Change the
bound here (UNCLASSIFIED_TEXT_SHARE_MAX below); better, add the wording that fell through to
seeds/cancel_reason_vocabulary.csv (int_cancel_reasons_classified lists it with reason_source
'unmatched_text'). A company that never types free text has a null share, which passes.
"""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext

UNCLASSIFIED_TEXT_SHARE_MAX = 0.10


def build(ctx: SuiteContext) -> Suite:
    """One row; the unclassified free-text share in [0, 1] (blocking) and at most the bound (warning)."""
    return Suite(
        name="rpt_cancel_reason_coverage",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="select unclassified_text_share from {relation}",
                expectations=[
                    gxe.ExpectTableRowCountToEqual(value=1, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="unclassified_text_share", min_value=0, max_value=1, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="unclassified_text_share",
                        min_value=0,
                        max_value=UNCLASSIFIED_TEXT_SHARE_MAX,
                        severity=WARNING,
                    ),
                ],
            ),
        ],
    )
