"""GX suite for intermediate.int_customer_episodes: the gaps-and-islands cut of every customer's history.

What it guards. An episode is a maximal stretch with at least one subscription active; an ended episode is a
defection, the next one a win-back. Every defection figure of the marts (who left, when, after how many poor
experiences, who came back) counts these rows. dbt tests hold the key and the accepted defection types; they
cannot see an episode cut wrongly: a window ordered differently, a subscription lost in the current-version
filter, an open episode followed by another, a defection without its type. Such breaks leave valid-looking
rows that move every defection count.

The expectations are invariants of the construction, not calibrated shares, so every one must hold exactly
and each blocks:

- episodes of a customer are numbered 1, 2, ... without a gap or a repeat;
- only a customer's last episode may be open, and each later episode starts after the earlier one ended
  (a start at the very instant of an end continues the episode, as the model cuts it);
- an episode ends at or after it starts, and holds at least one subscription;
- is_defection is exactly "ended"; a defection has its type, reason category and stated silo, an active
  episode none of them; is_win_back is exactly "not the first episode";
- the episodes' subscriptions add up to the current subscriptions of int_subscription_versions, so none is
  lost or counted twice.

Every invariant holds with zero violations on the test company of tests/conftest.py (1,500 customers x
240 days), which tests/expectations runs this suite on. The row count may not fall more than 5% between
passing runs (a late cancellation can merge two episodes of a customer into one).

Cost. One scan with one window over the episodes (10,369 for 10k customers) and one count of the
current subscription versions.
"""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext, row_count_batch

# Each column of the invariants batch counts the rows that break one invariant; each must be 0.
INVARIANTS = (
    "numbering_broken",
    "open_before_last",
    "starts_before_previous_end",
    "ends_before_start",
    "without_subscriptions",
    "defection_flag_wrong",
    "defection_fields_wrong",
    "win_back_flag_wrong",
)


def _zero(column: str) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=0, severity=ERROR)


def build(ctx: SuiteContext) -> Suite:
    """Row count; every construction invariant holds on every row; no subscription lost or doubled."""
    return Suite(
        name="int_customer_episodes",
        layer="intermediate",
        batches=[
            row_count_batch(ctx, tolerance=0.05),
            Batch(
                name="invariants",
                # One row of violation counts. The window reads each customer's episodes in number order, so a
                # numbering gap, a repeat or an overlap shows on the row where it happens.
                sql="""
                    select
                        count(*) filter (where episode_number <> position) as numbering_broken,
                        count(*) filter (where episode_ended_at is null and position < episodes)
                            as open_before_last,
                        count(*) filter (where episode_started_at <= previous_ended_at)
                            as starts_before_previous_end,
                        count(*) filter (where episode_ended_at < episode_started_at) as ends_before_start,
                        count(*) filter (where coalesce(n_subscriptions, 0) < 1) as without_subscriptions,
                        count(*) filter (where is_defection is distinct from (episode_ended_at is not null))
                            as defection_flag_wrong,
                        count(*) filter (where
                            case when is_defection
                                then defection_type is null or reason_category is null or stated_silo is null
                                else defection_type is not null or reason_category is not null
                                    or stated_silo is not null
                            end) as defection_fields_wrong,
                        count(*) filter (where is_win_back is distinct from (episode_number > 1))
                            as win_back_flag_wrong
                    from (
                        select
                            *,
                            row_number() over by_number as position,
                            count(*) over (partition by customer_id) as episodes,
                            lag(episode_ended_at) over by_number as previous_ended_at
                        from {relation}
                        window by_number as (
                            partition by customer_id order by episode_number, episode_started_at
                        )
                    ) as numbered
                """,
                expectations=[_zero(column) for column in INVARIANTS],
            ),
            Batch(
                name="subscriptions_accounted",
                sql="""
                    select
                        (select coalesce(sum(n_subscriptions), 0) from {relation})
                        - (select count(*) from intermediate.int_subscription_versions where is_current)
                            as subscriptions_unaccounted
                """,
                expectations=[_zero("subscriptions_unaccounted")],
            ),
        ],
    )
