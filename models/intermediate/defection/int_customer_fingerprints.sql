{#
  What the incremental facts rebuild: a customer's rows in fct_journey_events and fct_poor_experiences are a
  function of that customer's rows in a few intermediate models, so each fact keeps, on each of its rows,
  the fingerprint of the inputs it was built from (_input_fingerprint). A run rebuilds exactly the customers
  whose fingerprint here differs from the one their rows carry (customers_to_reprocess), which catches every
  cause of change with no assumption about how late data arrives: new deliveries, a replaced file that drops
  records, an account re-matched to another customer by e-mail, a changed seed, a changed var.

  A fingerprint is null when the customer has no row in the fact's driving input (no event, no poor
  experience): such a customer has no rows to build, and none stored.
#}
with

-- A touchpoint's hash is the one int_touchpoints stored with the row (_row_hash: its values, bookkeeping
-- columns left out), so a customer whose touchpoints were rebuilt with the same values has nothing new for
-- the facts.
touchpoints as (
    select customer_id, _row_hash from {{ ref('int_touchpoints') }}
),

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
),

defections as (
    select * from {{ ref('int_defections') }}
),

poor_experiences as (
    select * from {{ ref('int_poor_experiences') }}
),

touchpoint_hashes as (
    select
        touchpoints.customer_id,
        count(*) as n_rows,
        {{ fingerprint_agg('touchpoints._row_hash') }} as rows_hash
    from touchpoints
    group by touchpoints.customer_id
),

episode_hashes as (
    select
        customer_episodes.customer_id,
        -- exits and win-backs are journey events
        count(*) filter (where customer_episodes.is_defection or customer_episodes.is_win_back) as n_events,
        {{ fingerprint_agg(hash_values(['customer_episodes'])) }} as rows_hash
    from customer_episodes
    group by customer_episodes.customer_id
),

defection_hashes as (
    select
        defections.customer_id,
        {{ fingerprint_agg(hash_values(['defections'])) }} as rows_hash
    from defections
    group by defections.customer_id
),

poor_experience_hashes as (
    select
        poor_experiences.customer_id,
        count(*) as n_rows,
        {{ fingerprint_agg(hash_values(['poor_experiences'])) }} as rows_hash
    from poor_experiences
    group by poor_experiences.customer_id
),

customers as (
    select customer_id from touchpoint_hashes
    union
    select customer_id from episode_hashes
    union
    select customer_id from poor_experience_hashes
),

final as (
    select
        customers.customer_id,
        case when coalesce(touchpoint_hashes.n_rows, 0) + coalesce(episode_hashes.n_events, 0) > 0 then
            {{ hash_values([
                "'fct_journey_events'",
                'touchpoint_hashes.rows_hash',
                'episode_hashes.rows_hash',
                'poor_experience_hashes.rows_hash'
            ]) }}
        end as journey_events_fingerprint,
        case when poor_experience_hashes.n_rows > 0 then
            {{ hash_values([
                "'fct_poor_experiences'",
                'poor_experience_hashes.rows_hash',
                'episode_hashes.rows_hash',
                'defection_hashes.rows_hash',
                var('lookback_days')
            ]) }}
        end as poor_experiences_fingerprint
    from customers
    left join touchpoint_hashes on customers.customer_id = touchpoint_hashes.customer_id
    left join episode_hashes on customers.customer_id = episode_hashes.customer_id
    left join defection_hashes on customers.customer_id = defection_hashes.customer_id
    left join poor_experience_hashes on customers.customer_id = poor_experience_hashes.customer_id
    where customers.customer_id is not null
)

select * from final
